import type { AiRecordWire } from '../../../schemas/messages.ts';
import { matchTerms, parseQuery } from '../search/query.ts';
import type { Db } from './db.ts';
import { redactSecrets } from './redact.ts';

/**
 * One AI history record: a question to the AI and its outcome. Like a command record it is
 * immutable and belongs to one series, its origin machine's, numbered by `seq` (the AI series is
 * apart from the command series: see node/daemon/sync/ai-series.ts for why).
 */
export interface AiRecord {
  id: number;
  origin: string;
  seq: number;
  ts: number;
  /** ask | explain | fix | review, `ask (queued)` for a queued question answered later */
  kind: string;
  provider: string | null;
  model: string | null;
  question: string;
  answer: string | null;
  /** the command the AI proposed, if any (alternatives one per line) */
  command: string | null;
  error: string | null;
}

export type NewAiRecord = Omit<AiRecord, 'id' | 'origin' | 'seq'>;

export interface AiHistoryFilter {
  machine?: string;
  /** ms since epoch, inclusive */
  since?: number;
  /** ms since epoch, exclusive */
  until?: number;
}

const COLUMNS = 'id, origin, seq, ts, kind, provider, model, question, answer, command, error';

/** The text fields, redacted: the single door into `ai_history`, for own records and peers' alike. */
function redacted(r: {
  question: string;
  answer?: string | null;
  command?: string | null;
  error?: string | null;
}) {
  const opt = (v: string | null | undefined) => (v == null ? null : redactSecrets(v));
  return {
    question: redactSecrets(r.question),
    answer: opt(r.answer),
    command: opt(r.command),
    error: opt(r.error),
  };
}

/**
 * The `ai_history` table: this machine's own AI series plus every peer's, and `ai_tombstones`
 * (deleted records, so sync never brings them back). Everything is redacted on the way in.
 */
export class AiHistoryRepo {
  private readonly nextSeqStmt;
  private readonly insertStmt;

  constructor(
    private readonly db: Db,
    private readonly origin: () => string,
  ) {
    // tombstoned seqs stay taken, as in the command series
    this.nextSeqStmt = db.prepare<{ o: string }, { next: number }>(
      `SELECT MAX(COALESCE((SELECT MAX(seq) FROM ai_history WHERE origin = @o), 0),
                  COALESCE((SELECT MAX(seq) FROM ai_tombstones WHERE origin = @o), 0)) + 1 AS next`,
    );
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO ai_history(origin, seq, ts, kind, provider, model, question, answer, command, error)
       SELECT @origin, @seq, @ts, @kind, @provider, @model, @question, @answer, @command, @error
       WHERE NOT EXISTS (SELECT 1 FROM ai_tombstones WHERE origin = @origin AND seq = @seq)`,
    );
  }

  /** Appends to this machine's AI series. */
  record(entry: NewAiRecord): AiRecord {
    const origin = this.origin();
    return this.db
      .transaction(() => {
        const seq = this.nextSeqStmt.get({ o: origin })!.next;
        const result = this.insertStmt.run({
          ...redacted(entry),
          origin,
          seq,
          ts: entry.ts,
          kind: entry.kind,
          provider: entry.provider,
          model: entry.model,
        });
        return this.byId(Number(result.lastInsertRowid))!;
      })
      .immediate();
  }

  /** Idempotent insert of peers' records (INSERT OR IGNORE on (origin, seq)); tombstoned ones never come back. */
  insertRemote(records: readonly AiRecordWire[]): number {
    return this.db
      .transaction(() => {
        let added = 0;
        for (const r of records) {
          added += this.insertStmt.run({
            ...redacted(r),
            origin: r.origin,
            seq: r.seq,
            ts: r.ts,
            kind: r.kind,
            provider: r.provider ?? null,
            model: r.model ?? null,
          }).changes;
        }
        return added;
      })
      .immediate();
  }

  byId(id: number): AiRecord | undefined {
    return this.db.prepare<[number], AiRecord>(`SELECT ${COLUMNS} FROM ai_history WHERE id = ?`).get(id);
  }

  /** Most recent first; optionally one machine's. */
  recent(limit: number, filter: AiHistoryFilter = {}): AiRecord[] {
    const { sql, params } = where(filter);
    return this.db
      .prepare<Record<string, string | number>, AiRecord>(
        `SELECT ${COLUMNS} FROM ai_history WHERE 1${sql} ORDER BY ts DESC, id DESC LIMIT @limit`,
      )
      .all({ ...params, limit });
  }

  /**
   * Records whose question, proposed command or answer match `pattern` (the words, `prefix*` and
   * `"phrases"` of /search), most recent first. AI history is what people asked, so it is small
   * next to the command history: read newest first and matched here, no index of its own.
   */
  search(pattern: string, filter: AiHistoryFilter & { limit?: number } = {}): AiRecord[] {
    const parsed = parseQuery(pattern);
    const limit = filter.limit ?? 20;
    const { sql, params } = where(filter);
    const rows = this.db
      .prepare<Record<string, string | number>, AiRecord>(
        `SELECT ${COLUMNS} FROM ai_history WHERE 1${sql} ORDER BY ts DESC, id DESC`,
      )
      .iterate(params);
    const hits: AiRecord[] = [];
    for (const row of rows) {
      const text = [row.question, row.command ?? '', row.answer ?? ''].join('\n');
      const hit =
        parsed.terms.length > 0
          ? matchTerms(text, parsed.terms) !== undefined
          : parsed.literal === '' || text.includes(parsed.literal);
      if (!hit) continue;
      hits.push(row);
      if (hits.length >= limit) break;
    }
    return hits;
  }

  count(): number {
    return this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM ai_history').get()!.n;
  }

  /** Deletes records (any origin), leaving tombstones. Returns how many went. */
  forget(ids: readonly number[], deletedBy: string): number {
    const select = this.db.prepare<[number], { origin: string; seq: number }>(
      'SELECT origin, seq FROM ai_history WHERE id = ?',
    );
    const tombstone = this.db.prepare(
      'INSERT OR IGNORE INTO ai_tombstones(origin, seq, deleted_at, deleted_by) VALUES (?, ?, ?, ?)',
    );
    const remove = this.db.prepare('DELETE FROM ai_history WHERE id = ?');
    return this.db
      .transaction(() => {
        const now = Date.now();
        let n = 0;
        for (const id of ids) {
          const row = select.get(id);
          if (!row) continue;
          tombstone.run(row.origin, row.seq, now, deletedBy);
          n += remove.run(id).changes;
        }
        return n;
      })
      .immediate();
  }

  /** Deletes this machine's own AI series (`all`: every record held here), leaving tombstones. */
  clear(deletedBy: string, options: { all?: boolean } = {}): number {
    const scope = options.all ? '' : ' WHERE origin = ?';
    const args = options.all ? [] : [this.origin()];
    return this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT OR IGNORE INTO ai_tombstones(origin, seq, deleted_at, deleted_by)
             SELECT origin, seq, ?, ? FROM ai_history${scope}`,
          )
          .run(Date.now(), deletedBy, ...args);
        return this.db.prepare(`DELETE FROM ai_history${scope}`).run(...args).changes;
      })
      .immediate();
  }
}

function where(filter: AiHistoryFilter): { sql: string; params: Record<string, string | number> } {
  const parts: string[] = [];
  const params: Record<string, string | number> = {};
  if (filter.machine !== undefined) {
    parts.push('origin = @machine');
    params.machine = filter.machine;
  }
  if (filter.since !== undefined) {
    parts.push('ts >= @since');
    params.since = filter.since;
  }
  if (filter.until !== undefined) {
    parts.push('ts < @until');
    params.until = filter.until;
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params };
}
