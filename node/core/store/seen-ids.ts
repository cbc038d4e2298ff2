import type { Db } from './db.ts';

/** Ids of envelopes already applied; kept until the envelope would have expired anyway. */
export class SeenIdsRepo {
  private readonly hasStmt;
  private readonly addStmt;

  constructor(private readonly db: Db) {
    this.hasStmt = db.prepare<[Buffer], { one: number }>('SELECT 1 AS one FROM seen_ids WHERE id = ?');
    this.addStmt = db.prepare('INSERT OR IGNORE INTO seen_ids(id, expires_at) VALUES (?, ?)');
  }

  has(id: Uint8Array): boolean {
    return this.hasStmt.get(Buffer.from(id)) !== undefined;
  }

  /** Returns false when the id was already there. */
  add(id: Uint8Array, expiresAt: number): boolean {
    return this.addStmt.run(Buffer.from(id), expiresAt).changes > 0;
  }

  /** Drops ids whose envelopes have expired: a replay of those is refused as expired instead. */
  purge(now: number = Date.now()): number {
    return this.db.prepare('DELETE FROM seen_ids WHERE expires_at < ?').run(now).changes;
  }
}
