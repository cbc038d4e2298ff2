import { errorLine } from '../../schemas/errors.ts';
import type { MessageBodies, MessageType } from '../../schemas/messages.ts';
import type { Store } from '../core/store/store.ts';
import { resolveTargets } from './bus/targets.ts';
import type { Logger } from './logger.ts';
import { DEFAULT_EXEC_TTL_MS } from './outgoing-execs.ts';

/** Envelopes worth nothing once expired: they are dropped from the outbox rather than sent late. */
const EPHEMERAL = new Set<string>(['ping', 'pong', 'exec-cancel'] satisfies MessageType[]);

export interface PendingAdoptionDeps {
  store: Store;
  me: string;
  members: () => string[];
  msg: (target: string, text: string) => unknown;
  /** Seals and queues one exec envelope; returns its id. */
  enqueueExec: (target: string, body: MessageBodies['exec'], exp: number) => Uint8Array;
  track: (id: Uint8Array, target: string, cmd: string) => void;
  clock(): number;
  log: Logger;
}

/**
 * Seals the requests shells queued while no daemon ran (node/core/store/pending.ts). Each request
 * is replaced by its sealed envelopes in one transaction, so a crash leaves one or the other.
 */
export function adoptPendingRequests(d: PendingAdoptionDeps): void {
  const store = d.store;
  for (const row of store.pending.list()) {
    const request = row.request;
    store.db.transaction(() => {
      store.pending.delete(row.id);
      if (!request) return d.log.warn('dropped an unreadable pending request');
      try {
        if (request.op === 'msg') {
          d.msg(request.target, request.text);
          return;
        }
        const now = d.clock();
        const exp = (request.createdAt ?? now) + (request.ttlMs ?? DEFAULT_EXEC_TTL_MS);
        if (exp <= now) {
          store.messages.add({
            direction: 'in',
            peer: request.targets,
            kind: 'notice',
            body: `!exec ${request.cmd}: expired before isaac-node started, not sent`,
          });
          return;
        }
        for (const target of resolveTargets(request.targets, d.members())) {
          const timeoutMs = request.timeoutMs ?? store.config.number('remote.timeout') * 1000;
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
    if (row.expires_at < now && EPHEMERAL.has(row.kind)) store.outbox.delete(row.id);
  }
}
