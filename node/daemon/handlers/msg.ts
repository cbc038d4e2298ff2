import type { Store } from '../../core/store/store.ts';
import type { Notification } from '../../ipc/protocol.ts';
import type { Handler } from './types.ts';

/** `!msg` from another machine: kept in `messages` in the transaction, then shown to the shells. */
export function msgHandler(d: { store: Store; notify(n: Notification): void }): Handler<'msg'> {
  return {
    apply(env) {
      d.store.messages.add({
        envelopeId: env.id,
        direction: 'in',
        peer: env.from,
        kind: 'msg',
        body: env.body.text,
        ts: env.ts,
      });
    },
    after(env) {
      d.notify({ kind: 'msg', from: env.from, text: env.body.text, ts: env.ts });
    },
  };
}
