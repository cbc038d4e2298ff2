import type { HistorySync } from '../sync/engine.ts';
import type { Handler } from './types.ts';

/** Command records (and tombstones) from their origin: inserted inside the transaction. */
export function historyBatchHandler(d: { sync: Pick<HistorySync, 'apply'> }): Handler<'history-batch'> {
  return {
    apply: (env) => d.sync.apply(env),
  };
}
