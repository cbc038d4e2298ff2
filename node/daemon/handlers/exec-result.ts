import type { Store } from '../../core/store/store.ts';
import type { Notification } from '../../ipc/protocol.ts';
import type { OutgoingExecs } from '../outgoing-execs.ts';
import type { Handler } from './types.ts';

/**
 * The result of one of our `!exec`s: to the waiting shell live, else kept in `messages` (in the
 * transaction, so it survives a crash) and shown to the shells as a notification.
 */
export function execResultHandler(d: {
  store: Store;
  outgoing: OutgoingExecs;
  notify(n: Notification): void;
}): Handler<'exec-result'> {
  return {
    apply(env) {
      const text = d.outgoing.lateResultText(env);
      if (text === undefined) return;
      d.store.messages.add({
        envelopeId: env.id,
        direction: 'in',
        peer: env.from,
        kind: 'exec-result',
        body: text,
        ts: env.ts,
      });
    },
    after(env) {
      const text = d.outgoing.onResult(env);
      if (text !== undefined) d.notify({ kind: 'exec-result', from: env.from, text, ts: env.ts });
    },
  };
}
