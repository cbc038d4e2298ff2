import type { MessageBodies } from '../../schemas/messages.ts';
import type { Store } from '../store/store.ts';
import type { SyncTransport } from './engine.ts';

/**
 * How isaac-node plugs history sync in. NodeDaemon.enqueue already seals, writes the durable
 * outbox and publishes; the peers are the roster's current members. The daemon then forwards
 * (see HistorySync): `history-batch` / `sync-request` envelopes to `apply` inside its seen-id
 * transaction, every connect to `requestCatchUp()`, a new roster member to `requestCatchUp([name])`,
 * and its start/stop to `start()`/`stop()`.
 */
export interface EnqueuingDaemon {
  readonly me: string;
  enqueue<K extends 'history-batch' | 'sync-request'>(
    type: K,
    to: string,
    body: MessageBodies[K],
    exp: number,
  ): Uint8Array;
}

export function historyTransport(daemon: EnqueuingDaemon, store: Store): SyncTransport {
  return {
    me: daemon.me,
    enqueue: (type, to, body, exp) => daemon.enqueue(type, to, body, exp),
    peers: () =>
      store.machines
        .members()
        .map((m) => m.name)
        .filter((name) => name !== daemon.me),
  };
}
