import type { HistorySync } from '../sync/engine.ts';
import type { Handler } from './types.ts';

/** A peer's held map: the batches it lacks are queued inside the transaction. */
export function syncRequestHandler(d: { sync: Pick<HistorySync, 'apply'> }): Handler<'sync-request'> {
  return {
    apply: (env) => d.sync.apply(env),
  };
}
