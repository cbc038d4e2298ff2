import type { Db } from '../store/db.ts';
import type { Store } from '../store/store.ts';
import { literalSpans, matchSpans, type ParsedQuery, parseQuery } from './query.ts';

export interface HistoryQuery {
  /** What the user typed: words, `prefix*`, `"a phrase"`. Empty: filters only, newest first. */
  text: string;
  /** Origin machine. */
  machine?: string;
  /** ms since epoch, inclusive. */
  since?: number;
  /** ms since epoch, exclusive. */
  until?: number;
  exit?: number;
  /** This directory or anything under it. */
  cwd?: string;
  /** Exit code not 0 (and known). */
  failed?: boolean;
  /** Default 20. */
  limit?: number;
  /** One hit per distinct command line (its best-ranked, most recent record). */
  distinct?: boolean;
}

export interface SearchHit {
  id: number;
  origin: string;
  seq: number;
  ts: number;
  command: string;
  cwd: string | null;
  exit: number | null;
  duration_ms: number | null;
  source: string;
  /** bm25 of the match, lower is better; 0 for filter-only and substring searches. */
  score: number;
  /** [start, end) ranges of `command` that matched, for highlighting. */
  spans: [number, number][];
}

type Row = Omit<SearchHit, 'spans'>;

/**
 * Ranking by bm25 over every match of a common word costs ~0.7 µs per match (170 ms for "git"
 * over a million records), so ranking runs over a window: the newest `window` matches that pass
 * the filters, read in rowid order straight off the FTS doclist. Within it: best match first,
 * then most recent. Small result sets (the usual case once words are combined) are exact.
 */
const WINDOW_MIN = 200;
const HIT_COLUMNS = 'c.id, c.origin, c.seq, c.ts, c.command, c.cwd, c.exit, c.duration_ms, c.source';

const tuned = new WeakSet<Db>();

/** The default 2 MB page cache makes every filtered join page-fault; 32 MB keeps the hot rows. */
function tune(db: Db): void {
  if (tuned.has(db)) return;
  tuned.add(db);
  const current = db.pragma('cache_size', { simple: true }) as number;
  if (current < 0 ? -current < 32768 : current * 4 < 32768) db.pragma('cache_size = -32768');
}

interface Filters {
  sql: string;
  /** A filter reads a column the covering index does not hold (cwd). */
  needsRow: boolean;
  params: Record<string, string | number>;
}

function filters(query: HistoryQuery): Filters {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (query.machine !== undefined) {
    where.push('c.origin = @machine');
    params.machine = query.machine;
  }
  if (query.since !== undefined) {
    where.push('c.ts >= @since');
    params.since = query.since;
  }
  if (query.until !== undefined) {
    where.push('c.ts < @until');
    params.until = query.until;
  }
  if (query.exit !== undefined) {
    where.push('c.exit = @exit');
    params.exit = query.exit;
  }
  if (query.failed) where.push('c.exit IS NOT NULL AND c.exit <> 0');
  if (query.cwd !== undefined) {
    const dir = query.cwd.length > 1 ? query.cwd.replace(/\/+$/, '') : query.cwd;
    where.push('(c.cwd = @cwd OR substr(c.cwd, 1, length(@cwdSlash)) = @cwdSlash)');
    params.cwd = dir;
    params.cwdSlash = dir.endsWith('/') ? dir : `${dir}/`;
  }
  return { sql: where.map((w) => ` AND ${w}`).join(''), params, needsRow: query.cwd !== undefined };
}

function dbOf(source: Store | Db): Db {
  return 'history' in source ? source.db : source;
}

export function searchHistory(source: Store | Db, query: HistoryQuery): SearchHit[] {
  const db = dbOf(source);
  tune(db);
  const limit = Math.max(1, Math.floor(query.limit ?? 20));
  const parsed = parseQuery(query.text);
  const f = filters(query);
  const rows = runQuery(db, parsed, f, limit, query.distinct ?? false);
  const hits: SearchHit[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (query.distinct) {
      if (seen.has(row.command)) continue;
      seen.add(row.command);
    }
    const spans = parsed.match
      ? matchSpans(row.command, parsed.terms)
      : literalSpans(row.command, parsed.literal);
    hits.push({ ...row, spans });
    if (hits.length >= limit) break;
  }
  return hits;
}

/** Rows in rank order, fetched lazily so a caller that has enough stops the reads. */
function* runQuery(
  db: Db,
  parsed: ParsedQuery,
  f: Filters,
  limit: number,
  distinct: boolean,
): Generator<Row> {
  // Distinct needs room for the duplicates it drops (a history is mostly repeats).
  const take = distinct ? limit * 50 : limit;
  if (parsed.match !== undefined) {
    const window = distinct ? Math.max(WINDOW_MIN * 5, limit * 50) : Math.max(WINDOW_MIN, limit * 10);
    // CROSS JOIN keeps the FTS doclist as the outer loop; otherwise the planner may drive from
    // commands_origin_ts and probe FTS per row, which is a thousand times slower. Filters on
    // origin/exit/ts read the narrow covering index; the wide rows are fetched for the window only.
    const index = f.needsRow ? '' : ' INDEXED BY commands_search_filter';
    const ranked = db
      .prepare<Record<string, string | number>, { id: number; score: number; ts: number }>(
        `SELECT c.id, c.ts, bm25(commands_fts) AS score
         FROM commands_fts CROSS JOIN commands c${index} ON c.id = commands_fts.rowid
         WHERE commands_fts MATCH @match${f.sql}
         ORDER BY commands_fts.rowid DESC LIMIT @window`,
      )
      .all({ ...f.params, match: parsed.match, window });
    ranked.sort(
      (a, b) => Math.round(a.score * 100) - Math.round(b.score * 100) || b.ts - a.ts || b.id - a.id,
    );
    const byId = db.prepare<[number], Omit<Row, 'score'>>(
      `SELECT ${HIT_COLUMNS} FROM commands c WHERE c.id = ?`,
    );
    for (const r of ranked) {
      const row = byId.get(r.id);
      if (row) yield { ...row, score: r.score };
    }
    return;
  }
  const literal = parsed.literal;
  const substring = literal.length > 0 ? ' AND instr(c.command, @literal) > 0' : '';
  yield* db
    .prepare<Record<string, string | number>, Row>(
      `SELECT ${HIT_COLUMNS}, 0 AS score FROM commands c
       WHERE 1${f.sql}${substring} ORDER BY c.ts DESC, c.id DESC LIMIT @take`,
    )
    .iterate({ ...f.params, ...(substring ? { literal } : {}), take });
}

/** Every record the query matches (no window, no limit): what `/forget` deletes. */
export function matchingRecords(
  source: Store | Db,
  query: Omit<HistoryQuery, 'limit' | 'distinct'>,
): { id: number; origin: string; seq: number; command: string }[] {
  const db = dbOf(source);
  const parsed = parseQuery(query.text, { implicitPrefix: false });
  const f = filters(query);
  type R = { id: number; origin: string; seq: number; command: string };
  if (parsed.match !== undefined) {
    return db
      .prepare<Record<string, string | number>, R>(
        `SELECT c.id, c.origin, c.seq, c.command FROM commands_fts CROSS JOIN commands c ON c.id = commands_fts.rowid
         WHERE commands_fts MATCH @match${f.sql} ORDER BY c.id`,
      )
      .all({ ...f.params, match: parsed.match });
  }
  if (parsed.literal.length === 0) return [];
  return db
    .prepare<Record<string, string | number>, R>(
      `SELECT c.id, c.origin, c.seq, c.command FROM commands c
       WHERE instr(c.command, @literal) > 0${f.sql} ORDER BY c.id`,
    )
    .all({ ...f.params, literal: parsed.literal });
}
