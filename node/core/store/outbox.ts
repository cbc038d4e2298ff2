import type { Db } from './db.ts';

export interface OutboxRow {
  id: Uint8Array;
  topic: string;
  payload: Uint8Array;
  kind: string;
  peer: string;
  created_at: number;
  expires_at: number;
  attempts: number;
}

export type NewOutboxRow = Omit<OutboxRow, 'attempts' | 'created_at'> & { created_at?: number };

/** The outbox row for a sealed envelope of `kind` to `peer`, written now and never attempted yet. */
export function sealedRow(
  sealed: { id: Uint8Array; topic: string; payload: Uint8Array; exp: number },
  kind: string,
  peer: string,
): OutboxRow {
  return {
    id: sealed.id,
    topic: sealed.topic,
    payload: sealed.payload,
    kind,
    peer,
    created_at: Date.now(),
    expires_at: sealed.exp,
    attempts: 0,
  };
}

/**
 * The durable outbox of DESIGN.md "Delivery rules": every outgoing envelope is written here first
 * and deleted only when the broker's PUBACK for it arrives.
 */
export class OutboxRepo {
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly countStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO outbox(id, topic, payload, kind, peer, created_at, expires_at)
       VALUES (@id, @topic, @payload, @kind, @peer, @created_at, @expires_at)`,
    );
    this.deleteStmt = db.prepare('DELETE FROM outbox WHERE id = ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM outbox');
  }

  add(row: NewOutboxRow): void {
    this.insertStmt.run({
      ...row,
      id: Buffer.from(row.id),
      payload: Buffer.from(row.payload),
      created_at: row.created_at ?? Date.now(),
    });
  }

  /** Called on PUBACK. Returns whether a row was removed. */
  delete(id: Uint8Array): boolean {
    return this.deleteStmt.run(Buffer.from(id)).changes > 0;
  }

  /** Oldest first, so a peer sees requests in the order they were typed. */
  pending(limit = 10_000): OutboxRow[] {
    return this.db
      .prepare<[number], OutboxRow>('SELECT * FROM outbox ORDER BY created_at, rowid LIMIT ?')
      .all(limit);
  }

  markAttempt(id: Uint8Array): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1 WHERE id = ?').run(Buffer.from(id));
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  countByPeer(): Record<string, number> {
    const rows = this.db
      .prepare<[], { peer: string; n: number }>('SELECT peer, COUNT(*) AS n FROM outbox GROUP BY peer')
      .all();
    return Object.fromEntries(rows.map((r) => [r.peer, r.n]));
  }
}
