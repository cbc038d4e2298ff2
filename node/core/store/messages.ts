import type { Db } from './db.ts';

export interface MessageRow {
  id: number;
  envelope_id: Uint8Array | null;
  direction: 'in' | 'out';
  peer: string;
  kind: string;
  body: string;
  ts: number;
  shown: number;
}

export interface NewMessage {
  envelopeId?: Uint8Array;
  direction: 'in' | 'out';
  peer: string;
  /** msg | exec-result | notice */
  kind: string;
  body: string;
  ts?: number;
  shown?: boolean;
}

/** `/show messages`: incoming !msg, late exec results, notices. */
export class MessagesRepo {
  constructor(private readonly db: Db) {}

  /** Idempotent on the envelope id. Returns the row id, or undefined for a duplicate. */
  add(m: NewMessage): number | undefined {
    const result = this.db
      .prepare(
        'INSERT OR IGNORE INTO messages(envelope_id, direction, peer, kind, body, ts, shown) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        m.envelopeId ? Buffer.from(m.envelopeId) : null,
        m.direction,
        m.peer,
        m.kind,
        m.body,
        m.ts ?? Date.now(),
        m.shown ? 1 : 0,
      );
    return result.changes > 0 ? Number(result.lastInsertRowid) : undefined;
  }

  recent(limit = 50): MessageRow[] {
    return this.db
      .prepare<[number], MessageRow>('SELECT * FROM messages ORDER BY ts DESC, id DESC LIMIT ?')
      .all(limit)
      .reverse();
  }

  unshown(): MessageRow[] {
    return this.db
      .prepare<[], MessageRow>("SELECT * FROM messages WHERE shown = 0 AND direction = 'in' ORDER BY ts, id")
      .all();
  }

  markShown(ids: readonly number[]): void {
    const stmt = this.db.prepare('UPDATE messages SET shown = 1 WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) stmt.run(id);
    })();
  }

  count(filter: { direction?: 'in' | 'out'; kind?: string; peer?: string } = {}): number {
    const where: string[] = [];
    const params: string[] = [];
    for (const [k, v] of Object.entries(filter)) {
      if (v === undefined) continue;
      where.push(`${k} = ?`);
      params.push(v);
    }
    const sql = `SELECT COUNT(*) AS n FROM messages${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
    return (this.db.prepare(sql).get(...params) as { n: number }).n;
  }
}
