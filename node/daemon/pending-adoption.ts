import { errorLine } from '../../schemas/errors.ts';
import type { MessageBodies, MessageType } from '../../schemas/messages.ts';
import { isPendingRow, readPending } from '../core/store/pending.ts';
import type { Store } from '../core/store/store.ts';
import { resolveTargets } from './bus/targets.ts';
import { DEFAULT_EXEC_TTL_MS } from './outgoing-execs.ts';

/** Envelopes worth nothing once expired: they are dropped from the outbox rather than sent late. */
const EPHEMERAL = new Set<MessageType>(['ping', 'pong', 'exec-cancel']);

export interface PendingAdoptionDeps {
  store: Store;
  me: string;
  members: () => string[];
  msg: (target: string, text: string) => unknown;
  /** Seals and queues one exec envelope; returns its id. */
  enqueueExec: (target: string, body: MessageBodies['exec'], exp: number) => Uint8Array;
  track: (id: Uint8Array, target: string, cmd: string) => void;
  log: (line: string) => void;
}

/**
 * Seals the requests shells queued while no daemon ran (see node/bus/pending.ts). Each request
 * is replaced by its sealed envelopes in one transaction, so a crash leaves one or the other.
 */
export function adoptPendingRequests(d: PendingAdoptionDeps): void {
  const store = d.store;
  for (const row of store.outbox.pending()) {
    if (!isPendingRow(row)) continue;
    const request = readPending(row.payload);
    store.db.transaction(() => {
      store.outbox.delete(row.id);
      if (!request) return d.log('dropped an unreadable pending request from the outbox');
      try {
        if (request.op === 'msg') {
          d.msg(request.target, request.text);
          return;
        }
        const exp = (request.createdAt ?? Date.now()) + (request.ttlMs ?? DEFAULT_EXEC_TTL_MS);
        if (exp <= Date.now()) {
          store.messages.add({
            direction: 'in',
            peer: request.targets,
            kind: 'notice',
            body: `!exec ${request.cmd}: expired before isaac-node started, not sent`,
          });
          return;
        }
        for (const target of resolveTargets(request.targets, d.members())) {
          const timeoutMs = request.timeoutMs ?? store.config.getNumber('remote.timeout') * 1000;
          const id = d.enqueueExec(target, { cmd: request.cmd, timeoutMs, stream: true }, exp);
          d.track(id, target, request.cmd);
        }
      } catch (err) {
        store.messages.add({
          direction: 'in',
          peer: d.me,
          kind: 'notice',
          body: `queued request could not be sent: ${errorLine(err)}`,
        });
      }
    })();
  }
}

export function dropStaleEphemeral(store: Store, now = Date.now()): void {
  for (const row of store.outbox.pending()) {
    if (row.expires_at < now && EPHEMERAL.has(row.kind as MessageType)) store.outbox.delete(row.id);
  }
}
