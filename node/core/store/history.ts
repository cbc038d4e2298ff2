import type Database from 'better-sqlite3';
import { StoreError } from '../../../schemas/errors.ts';
import { type CommandKind, commandKind } from './command-kind.ts';
import type { Db } from './db.ts';
import { redactOutput, redactSecrets } from './redact.ts';

export interface CommandRecord {
  id: number;
  origin: string;
  seq: number;
  ts: number;
  command: string;
  output: string | null;
  cwd: string | null;
  exit: number | null;
  duration_ms: number | null;
  session: string | null;
  machine_id: string | null;
  source: string;
  /** shell | slash | bang | ai | remote (command-kind.ts) */
  kind: CommandKind;
  synced: number;
}

export interface NewCommand {
  command: string;
  output?: string | null;
  cwd?: string | null;
  exit?: number | null;
  durationMs?: number | null;
  session?: string | null;
  ts?: number;
  source?: string;
  /** Default: derived from the command and source (commandKind). */
  kind?: CommandKind;
  importKey?: string;
}

/** A record from another machine's series, as it arrives in a sync batch. */
export interface RemoteCommand {
  origin: string;
  seq: number;
  ts: number;
  command: string;
  output?: string | null;
  cwd?: string | null;
  exit?: number | null;
  duration_ms?: number | null;
  session?: string | null;
  source?: string;
}

/** Values per row of recordMany's INSERT, and rows per statement (SQLite takes 32766 values). */
const INSERT_WIDTH = 13;
const ROWS_PER_INSERT = 2000;
/** Thrown inside recordMany's optimistic try: some rows were imported before. */
const DUPLICATES = new Error('some rows of the batch are already imported');

/** A row of recordMany: its import key, and its columns after origin and seq. */
interface ImportRow {
  key: string | null;
  entry: unknown[];
}

const COLUMNS =
  'id, origin, seq, ts, command, output, cwd, exit, duration_ms, session, machine_id, source, kind, synced';

/**
 * The `commands` table: this machine's own immutable series plus every peer's.
 * Everything is redacted here, at the single door into the table.
 */
export class HistoryRepo {
  private readonly nextSeqStmt;
  private readonly insertStmt;
  private readonly insertRemoteStmt;
  private storedKeysStmt: Database.Statement<[string], string> | undefined;
  private readonly insertRowsStmts = new Map<number, ReturnType<Db['prepare']>>();

  constructor(
    private readonly db: Db,
    private readonly origin: () => string,
  ) {
    // Tombstoned seqs stay taken: after /clear history a reused seq would be refused by every peer.
    this.nextSeqStmt = db.prepare<{ o: string }, { next: number }>(
      `SELECT MAX(COALESCE((SELECT MAX(seq) FROM commands WHERE origin = @o), 0),
                  COALESCE((SELECT MAX(seq) FROM tombstones WHERE origin = @o), 0)) + 1 AS next`,
    );
    this.insertStmt = db.prepare(
      `INSERT OR IGNORE INTO commands(origin, seq, ts, command, output, cwd, exit, duration_ms, session, machine_id, source, kind, import_key)
       VALUES (@origin, @seq, @ts, @command, @output, @cwd, @exit, @duration_ms, @session, @origin, @source, @kind, @import_key)`,
    );
    this.insertRemoteStmt = db.prepare(
      `INSERT OR IGNORE INTO commands(origin, seq, ts, command, output, cwd, exit, duration_ms, session, machine_id, source, kind, synced)
       SELECT @origin, @seq, @ts, @command, @output, @cwd, @exit, @duration_ms, @session, @origin, @source, @kind, 1
       WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE origin = @origin AND seq = @seq)`,
    );
  }

  /** Appends to this machine's series. Returns the new record, or undefined if it was a duplicate import. */
  record(entry: NewCommand): CommandRecord | undefined {
    const origin = this.origin();
    return this.db
      .transaction((): CommandRecord | undefined => {
        const seq = this.nextSeqStmt.get({ o: origin })!.next;
        const result = this.insertStmt.run(ownRow(origin, seq, entry));
        if (result.changes === 0) return undefined;
        return this.byId(Number(result.lastInsertRowid));
      })
      .immediate();
  }

  /**
   * Appends many records to this machine's series in one transaction (history import).
   * Same redaction and import-key dedupe as record(); a duplicate takes no seq. Returns rows added.
   * The rows go in multi-row INSERTs: each INSERT statement costs a statement journal and an FTS
   * flush (a new index segment to merge later), which one row per statement pays per row. Each
   * INSERT is first tried as all new (the usual case of an import); when the table refuses a row
   * as already imported, that INSERT is rolled back and its rows go again without the keys the
   * table holds, so the seqs stay without gaps.
   */
  recordMany(entries: readonly NewCommand[]): number {
    const origin = this.origin();
    return this.db
      .transaction(() => {
        let seq = this.nextSeqStmt.get({ o: origin })!.next;
        const seen = new Set<string>();
        let added = 0;
        let hopeful = true;
        for (let at = 0; at < entries.length; at += ROWS_PER_INSERT) {
          const rows: ImportRow[] = [];
          for (const entry of entries.slice(at, at + ROWS_PER_INSERT)) {
            const key = entry.importKey ?? null;
            if (key !== null) {
              if (seen.has(key)) continue; // a repeat within the batch
              seen.add(key);
            }
            rows.push({ key, entry: ownFields(origin, entry, key) });
          }
          if (rows.length === 0) continue;
          let fresh = rows;
          try {
            if (!hopeful) throw DUPLICATES;
            this.db.transaction(() => this.insertRows(origin, seq, rows, true))();
          } catch (err) {
            if (err !== DUPLICATES) throw err;
            hopeful = false; // the rest of the batch was most likely imported too (a re-import)
            const stored = this.storedImportKeys(rows);
            fresh = rows.filter((r) => r.key === null || !stored.has(r.key));
            this.insertRows(origin, seq, fresh, false);
          }
          seq += fresh.length;
          added += fresh.length;
        }
        return added;
      })
      .immediate();
  }

  /** One INSERT of `rows`, numbered from `seq`. */
  private insertRows(origin: string, seq: number, rows: readonly ImportRow[], optimistic: boolean): void {
    if (rows.length === 0) return;
    const values: unknown[] = [];
    for (const { entry } of rows) values.push(origin, seq++, ...entry);
    if (this.insertRowsStatement(rows.length).run(values).changes === rows.length) return;
    if (optimistic) throw DUPLICATES;
    // cannot happen: seqs are fresh and stored keys were left out; never half an import
    throw new StoreError('history import: the database refused a row it should have taken', {
      hint: 'run the import again; nothing of this batch was stored',
    });
  }

  /** The import keys among `rows` that the table already holds. */
  private storedImportKeys(rows: readonly ImportRow[]): Set<string> {
    const keys = rows.flatMap((r) => (r.key === null ? [] : [r.key]));
    if (keys.length === 0) return new Set();
    this.storedKeysStmt ??= this.db
      .prepare<[string], string>(
        'SELECT import_key FROM commands WHERE import_key IN (SELECT value FROM json_each(?))',
      )
      .pluck();
    return new Set(this.storedKeysStmt.all(JSON.stringify(keys)));
  }

  /** INSERT OR IGNORE of `n` rows in one statement (prepared once per size). */
  private insertRowsStatement(n: number): ReturnType<Db['prepare']> {
    let stmt = this.insertRowsStmts.get(n);
    if (!stmt) {
      stmt = this.db.prepare(
        `INSERT OR IGNORE INTO commands(origin, seq, ts, command, output, cwd, exit, duration_ms, session, machine_id, source, kind, import_key)
         VALUES ${Array.from({ length: n }, () => `(${'?, '.repeat(INSERT_WIDTH - 1)}?)`).join(', ')}`,
      );
      this.insertRowsStmts.set(n, stmt);
    }
    return stmt;
  }

  /** Idempotent insert of peers' records; tombstoned records never come back. Returns rows added. */
  insertRemote(records: readonly RemoteCommand[]): number {
    return this.db
      .transaction(() => {
        let added = 0;
        for (const r of records) {
          added += this.insertRemoteStmt.run({
            ...redactedFields(r.command, r.output, r),
            origin: r.origin,
            seq: r.seq,
            ts: r.ts,
            duration_ms: r.duration_ms ?? null,
            source: r.source ?? 'shell',
            kind: commandKind(r.command, r.source),
          }).changes;
        }
        return added;
      })
      .immediate();
  }

  byId(id: number): CommandRecord | undefined {
    return this.db.prepare<[number], CommandRecord>(`SELECT ${COLUMNS} FROM commands WHERE id = ?`).get(id);
  }

  /** Most recent first; optionally one machine's, or one kind (shell, slash, ...). */
  recent(limit: number, options: { machine?: string; kind?: CommandKind } = {}): CommandRecord[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit };
    if (options.machine !== undefined) {
      where.push('origin = @machine');
      params.machine = options.machine;
    }
    if (options.kind !== undefined) {
      where.push('kind = @kind');
      params.kind = options.kind;
    }
    return this.db
      .prepare<Record<string, string | number>, CommandRecord>(
        `SELECT ${COLUMNS} FROM commands ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY ts DESC, id DESC LIMIT @limit`,
      )
      .all(params);
  }

  /** Distinct command lines, most recent first: the shell's Up/Down list. */
  recentLines(limit: number): string[] {
    return this.db
      .prepare<[number], { command: string }>(
        'SELECT command FROM commands GROUP BY command ORDER BY MAX(id) DESC LIMIT ?',
      )
      .all(limit)
      .map((r) => r.command);
  }

  count(): number {
    return this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM commands').get()!.n;
  }

  /** Deletes every record of this machine's own series, leaving tombstones so sync never revives them. */
  clearOwn(deletedBy: string): number {
    const origin = this.origin();
    return this.db
      .transaction(() => {
        const now = Date.now();
        this.db
          .prepare(
            `INSERT OR IGNORE INTO tombstones(origin, seq, deleted_at, deleted_by)
             SELECT origin, seq, ?, ? FROM commands WHERE origin = ?`,
          )
          .run(now, deletedBy, origin);
        return this.db.prepare('DELETE FROM commands WHERE origin = ?').run(origin).changes;
      })
      .immediate();
  }

  /** Deletes every record in the local cache (all origins), leaving tombstones. */
  clearAll(deletedBy: string): number {
    return this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT OR IGNORE INTO tombstones(origin, seq, deleted_at, deleted_by)
             SELECT origin, seq, ?, ? FROM commands`,
          )
          .run(Date.now(), deletedBy);
        return this.db.prepare('DELETE FROM commands').run().changes;
      })
      .immediate();
  }

  /** Ctrl-R: the `skip`-th most recent distinct command containing `text` (optionally one origin's). */
  findContaining(
    text: string,
    skip: number,
    origin?: string,
  ): { command: string; origin: string } | undefined {
    const sql = `SELECT command, origin FROM commands WHERE instr(command, ?) > 0 ${origin === undefined ? '' : 'AND origin = ?'}
       GROUP BY command ORDER BY MAX(id) DESC LIMIT 1 OFFSET ?`;
    const params = origin === undefined ? [text, skip] : [text, origin, skip];
    return this.db.prepare(sql).get(...params) as { command: string; origin: string } | undefined;
  }

  /**
   * Deletes the given records (any origin), leaving tombstones so sync never revives them.
   * Returns the tombstones written, for sync to send to peers.
   */
  forget(ids: readonly number[], deletedBy: string): { origin: string; seq: number; deleted_at: number }[] {
    const select = this.db.prepare<[number], { origin: string; seq: number }>(
      'SELECT origin, seq FROM commands WHERE id = ?',
    );
    const tombstone = this.db.prepare(
      'INSERT OR IGNORE INTO tombstones(origin, seq, deleted_at, deleted_by) VALUES (?, ?, ?, ?)',
    );
    const remove = this.db.prepare('DELETE FROM commands WHERE id = ?');
    return this.db
      .transaction(() => {
        const now = Date.now();
        const written: { origin: string; seq: number; deleted_at: number }[] = [];
        for (const id of ids) {
          const row = select.get(id);
          if (!row) continue;
          tombstone.run(row.origin, row.seq, now, deletedBy);
          remove.run(id);
          written.push({ ...row, deleted_at: now });
        }
        return written;
      })
      .immediate();
  }

  /** `{origin: max seq}` over every series held here: the input to sync planning. */
  maxSeqByOrigin(): Record<string, number> {
    const rows = this.db
      .prepare<[], { origin: string; max_seq: number }>(
        'SELECT origin, MAX(seq) AS max_seq FROM commands GROUP BY origin',
      )
      .all();
    return Object.fromEntries(rows.map((r) => [r.origin, r.max_seq]));
  }
}

/** The columns every insert shares; redaction happens here, at the single door into the table. */
function redactedFields(
  command: string,
  output: string | null | undefined,
  rest: { cwd?: string | null; exit?: number | null; session?: string | null },
) {
  return {
    command: redactSecrets(command),
    output: output == null ? null : redactOutput(output),
    cwd: rest.cwd ?? null,
    exit: rest.exit ?? null,
    session: rest.session ?? null,
  };
}

/** ownRow's columns after origin and seq, as INSERT values (no objects: an import makes a million). */
function ownFields(origin: string, entry: NewCommand, key: string | null): unknown[] {
  return [
    entry.ts ?? Date.now(),
    redactSecrets(entry.command),
    entry.output == null ? null : redactOutput(entry.output),
    entry.cwd ?? null,
    entry.exit ?? null,
    entry.durationMs ?? null,
    entry.session ?? null,
    origin,
    entry.source ?? 'shell',
    entry.kind ?? commandKind(entry.command, entry.source),
    key,
  ];
}

function ownRow(origin: string, seq: number, entry: NewCommand) {
  return {
    ...redactedFields(entry.command, entry.output, entry),
    origin,
    seq,
    ts: entry.ts ?? Date.now(),
    duration_ms: entry.durationMs ?? null,
    source: entry.source ?? 'shell',
    kind: entry.kind ?? commandKind(entry.command, entry.source),
    import_key: entry.importKey ?? null,
  };
}
