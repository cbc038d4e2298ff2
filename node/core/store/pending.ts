import { randomBytes } from 'node:crypto';
import type { Store } from './store.ts';

/**
 * Requests typed while no isaac-node runs: kept in the outbox as unsealed "pending" rows (the
 * shell holds no keys), and sealed into real envelopes by the daemon when it starts.
 */
export type PendingRequest =
  | { op: 'exec'; targets: string; cmd: string; timeoutMs?: number; ttlMs?: number; createdAt?: number }
  | { op: 'msg'; target: string; text: string; createdAt?: number };

export const PENDING_PREFIX = 'pending:';
const PENDING_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export function enqueueWithoutDaemon(store: Store, request: PendingRequest): void {
  const createdAt = request.createdAt ?? Date.now();
  store.outbox.add({
    id: new Uint8Array(randomBytes(16)),
    topic: '',
    payload: new TextEncoder().encode(JSON.stringify({ ...request, createdAt })),
    kind: `${PENDING_PREFIX}${request.op}`,
    peer: request.op === 'exec' ? request.targets : request.target,
    created_at: createdAt,
    expires_at: createdAt + PENDING_TTL_MS,
  });
}

export function isPendingRow(row: { kind: string }): boolean {
  return row.kind.startsWith(PENDING_PREFIX);
}

export function readPending(payload: Uint8Array): PendingRequest | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(payload)) as PendingRequest;
    if (value.op === 'exec' && typeof value.targets === 'string' && typeof value.cmd === 'string')
      return value;
    if (value.op === 'msg' && typeof value.target === 'string' && typeof value.text === 'string')
      return value;
  } catch {
    // fall through: an unreadable row is reported by the caller
  }
  return undefined;
}
