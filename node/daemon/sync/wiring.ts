import type { MessageType } from '../../../schemas/messages.ts';
import type { Store } from '../../core/store/store.ts';
import type { OpenedEnvelope } from '../bus/envelope-port.ts';
import { HistorySync, type SyncOptions, type SyncTransport } from './engine.ts';

/**
 * How isaac-node plugs history sync in. NodeDaemon.enqueue already seals, writes the durable
 * outbox and publishes; the peers are the roster's current members.
 */
export type EnqueuingDaemon = Pick<SyncTransport, 'me' | 'enqueue'>;

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

/**
 * History sync as a daemon extension (NodeDaemon.use): the daemon hands it `history-batch` and
 * `sync-request` envelopes inside its seen-id transaction, every connect, and new members.
 * `sync` is the engine itself, for `/sync` (syncNow) and `/show status` (peerSyncStatus).
 */
export function historyExtension(
  daemon: EnqueuingDaemon,
  store: Store,
  log: (line: string) => void,
  options: Omit<SyncOptions, 'log'> = {},
): {
  readonly types: readonly MessageType[];
  readonly sync: HistorySync;
  apply(env: OpenedEnvelope): void;
  onConnected(): void;
  onMemberAdded(name: string): void;
  start(): void;
  stop(): void;
} {
  const sync = new HistorySync(store, historyTransport(daemon, store), { log, ...options });
  return {
    types: ['history-batch', 'sync-request'],
    sync,
    apply: (env) => sync.apply(env),
    onConnected: () => sync.requestCatchUp(),
    onMemberAdded: (name) => {
      if (name !== daemon.me) sync.requestCatchUp([name]);
    },
    start: () => sync.start(),
    stop: () => sync.stop(),
  };
}
