import type { Db } from './db.ts';
import type { Store } from './store.ts';

/**
 * Requests typed while no isaac-node runs: the shell holds no keys, so they wait here unsealed
 * (their own table; the outbox holds only sealed envelopes) until the daemon starts and seals them.
 */
export type PendingRequest =
  | { op: 'exec'; targets: string; cmd: string; timeoutMs?: number; ttlMs?: number; createdAt?: number }
  | { op: 'msg'; target: string; text: string; createdAt?: number };

/** A stored request; `request` is undefined when its row cannot be read (it is dropped, with a line). */
export interface PendingRow {
  id: number;
  request: PendingRequest | undefined;
}

const PENDING_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export class PendingRepo {
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly countStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO pending_requests(op, target, request, created_at, expires_at)
       VALUES (@op, @target, @request, @created_at, @expires_at)`,
    );
    this.deleteStmt = db.prepare('DELETE FROM pending_requests WHERE id = ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM pending_requests');
  }

  add(request: PendingRequest): void {
    const createdAt = request.createdAt ?? Date.now();
    this.insertStmt.run({
      op: request.op,
      target: request.op === 'exec' ? request.targets : request.target,
      request: JSON.stringify({ ...request, createdAt }),
      created_at: createdAt,
      expires_at: createdAt + PENDING_TTL_MS,
    });
  }

  /** Oldest first, so requests go out in the order they were typed. */
  list(): PendingRow[] {
    return this.db
      .prepare<[], { id: number; request: string }>(
        'SELECT id, request FROM pending_requests ORDER BY created_at, id',
      )
      .all()
      .map((row) => ({ id: row.id, request: readPending(row.request) }));
  }

  delete(id: number): void {
    this.deleteStmt.run(id);
  }

  count(): number {
    return this.countStmt.get()!.n;
  }
}

/** Queues a request for the daemon to seal and send when it starts. */
export function enqueueWithoutDaemon(store: Store, request: PendingRequest): void {
  store.pending.add(request);
}

function readPending(json: string): PendingRequest | undefined {
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== 'object' || value === null) return undefined;
    const r = value as Record<string, unknown>;
    const createdAt = typeof r.createdAt === 'number' ? { createdAt: r.createdAt } : {};
    if (r.op === 'exec' && typeof r.targets === 'string' && typeof r.cmd === 'string') {
      return {
        op: 'exec',
        targets: r.targets,
        cmd: r.cmd,
        ...(typeof r.timeoutMs === 'number' ? { timeoutMs: r.timeoutMs } : {}),
        ...(typeof r.ttlMs === 'number' ? { ttlMs: r.ttlMs } : {}),
        ...createdAt,
      };
    }
    if (r.op === 'msg' && typeof r.target === 'string' && typeof r.text === 'string')
      return { op: 'msg', target: r.target, text: r.text, ...createdAt };
  } catch {
    // fall through: an unreadable row is reported by the caller
  }
  return undefined;
}
