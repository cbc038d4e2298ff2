import type { CommandKind } from '../store/command-kind.ts';
import type { Db } from '../store/db.ts';
import type { Store } from '../store/store.ts';
import { literalSpans, matchTerms, parseQuery, type QueryTerm, termScore } from './query.ts';
import { ftsWindow, narrowedWindow, type Scorer, type WindowRow } from './window.ts';

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
  /** Only records of this kind (shell, slash, bang, ai, remote). */
  kind?: CommandKind;
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
  kind: CommandKind;
  /** Share of the command's words the query matched (0..1, higher first); 0 without words. */
  score: number;
  /** [start, end) ranges of `command` that matched, for highlighting. */
  spans: [number, number][];
}

type Row = Omit<SearchHit, 'spans' | 'score'>;

/**
 * Ranking every match of a common word costs ~0.7 µs a match (bm25 over all 250,000 "git" rows
 * of a million took 170 ms), so ranking runs over a window: the newest `window` matches that
 * pass the filters. Within it: closest match first (see matchTerms), then most recent. Result
 * sets smaller than the window (the usual case once words or filters are combined) are exact.
 * The window reads only id, time and command; the hits' full rows are read at the end.
 */
const WINDOW_MIN = 200;
const HIT_COLUMNS = 'c.id, c.origin, c.seq, c.ts, c.command, c.cwd, c.exit, c.duration_ms, c.source, c.kind';

/** Per open database: whether migration 2's covering index is there (a read-only open skips migrations). */
const tuned = new WeakMap<Db, { coveringIndex: boolean }>();

/** The default 2 MB page cache makes every filtered join page-fault; 32 MB keeps the hot rows. */
function tune(db: Db): { coveringIndex: boolean } {
  const known = tuned.get(db);
  if (known) return known;
  const current = db.pragma('cache_size', { simple: true }) as number;
  if (current < 0 ? -current < 32768 : current * 4 < 32768) db.pragma('cache_size = -32768');
  const coveringIndex =
    db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'commands_search_filter'")
      .get() !== undefined;
  const info = { coveringIndex };
  tuned.set(db, info);
  return info;
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
  if (query.kind !== undefined) {
    where.push('c.kind = @kind');
    params.kind = query.kind;
  }
  if (query.cwd !== undefined) {
    const dir = query.cwd.length > 1 ? query.cwd.replace(/\/+$/, '') : query.cwd;
    where.push('(c.cwd = @cwd OR substr(c.cwd, 1, length(@cwdSlash)) = @cwdSlash)');
    params.cwd = dir;
    params.cwdSlash = dir.endsWith('/') ? dir : `${dir}/`;
  }
  // cwd and kind are not in the covering index
  const needsRow = query.cwd !== undefined || query.kind !== undefined;
  return { sql: where.map((w) => ` AND ${w}`).join(''), params, needsRow };
}

function dbOf(source: Store | Db): Db {
  return 'history' in source ? source.db : source;
}

/**
 * Which way a search reads the table; tests pin it to check they all give the same answer.
 * `fts`: the index, with long prefixes narrowed (window.ts narrowedWindow) where that is exact;
 * `fts-full`: the index asked the query as typed; `scan`: the filtered rows, matched here.
 */
export type SearchPlan = 'fts' | 'fts-full' | 'scan';

/**
 * Below this many rows selected by the indexed filters (machine, since, until), reading those
 * rows and matching in JS beats walking every FTS match of a common word and joining each to
 * its row (~0.7 µs a match): the crossover is near sqrt(window x table size).
 */
const SCAN_MAX_ROWS = 15_000;

export function searchHistory(
  source: Store | Db,
  query: HistoryQuery,
  options: { plan?: SearchPlan } = {},
): SearchHit[] {
  const db = dbOf(source);
  const { coveringIndex } = tune(db);
  const limit = Math.max(1, Math.floor(query.limit ?? 20));
  const parsed = parseQuery(query.text);
  const f = filters(query);
  if (!coveringIndex) f.needsRow = true;
  if (parsed.match === undefined)
    return newestMatching(db, parsed.literal, f, limit, query.distinct ?? false);
  const match = parsed.match;
  // Distinct needs room for the duplicates it drops (a history is mostly repeats).
  const window = query.distinct ? Math.max(WINDOW_MIN * 5, limit * 50) : Math.max(WINDOW_MIN, limit * 10);
  const plan = options.plan ?? (indexedRowsAtMost(db, query, SCAN_MAX_ROWS) ? 'scan' : 'fts');
  // A history repeats itself: each distinct command line is tokenized and scored once.
  const scores = new Map<string, number | undefined>();
  const score: Scorer = (command) => {
    let s = scores.get(command);
    if (s === undefined && !scores.has(command)) {
      s = termScore(command, parsed.terms);
      scores.set(command, s);
    }
    return s;
  };
  // one read snapshot for the window and the rows of the hits
  return db.transaction(() => {
    const rows =
      plan === 'scan'
        ? scanWindow(db, f, window, score)
        : ((plan === 'fts' ? narrowedWindow(db, parsed.terms, f, window, score) : undefined) ??
          ftsWindow(db, match, f, window));
    return rank(db, rows, parsed.terms, score, limit, query.distinct ?? false);
  })();
}

/** True when machine/since/until alone select at most `max` rows (an index range count). */
function indexedRowsAtMost(db: Db, query: HistoryQuery, max: number): boolean {
  const where: string[] = [];
  const params: Record<string, string | number> = { cap: max + 1 };
  if (query.machine !== undefined) {
    where.push('origin = @machine');
    params.machine = query.machine;
  }
  if (query.since !== undefined) {
    where.push('ts >= @since');
    params.since = query.since;
  }
  if (query.until !== undefined) {
    where.push('ts < @until');
    params.until = query.until;
  }
  if (where.length === 0) return false;
  const n = db
    .prepare<Record<string, string | number>, { n: number }>(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM commands WHERE ${where.join(' AND ')} LIMIT @cap)`,
    )
    .get(params)!.n;
  return n <= max;
}

const rowStatement = new WeakMap<Db, ReturnType<Db['prepare']>>();

/**
 * Within the window: closest match first, then most recent (one hit per command line when
 * distinct: its newest record). Only the hits' own rows are read in full.
 */
function rank(
  db: Db,
  rows: readonly WindowRow[],
  terms: readonly QueryTerm[],
  score: Scorer,
  limit: number,
  distinct: boolean,
): SearchHit[] {
  let candidates: readonly WindowRow[] = rows;
  if (distinct) {
    const newest = new Map<string, WindowRow>();
    for (const row of rows) {
      const seen = newest.get(row[2]);
      if (!seen || row[1] > seen[1] || (row[1] === seen[1] && row[0] > seen[0])) newest.set(row[2], row);
    }
    candidates = [...newest.values()];
  }
  // The index folds a few scripts differently from JS; what it matched stays a hit (score 0).
  const ranked = candidates.map((row) => ({ row, score: score(row[2]) ?? 0 }));
  ranked.sort((a, b) => b.score - a.score || b.row[1] - a.row[1] || b.row[0] - a.row[0]);
  let byId = rowStatement.get(db);
  if (!byId) {
    byId = db.prepare(`SELECT ${HIT_COLUMNS} FROM commands c WHERE c.id = ?`);
    rowStatement.set(db, byId);
  }
  const hits: SearchHit[] = [];
  for (const { row, score: s } of ranked) {
    const full = byId.get(row[0]) as Row | undefined;
    if (!full) continue;
    hits.push({ ...full, score: s, spans: matchTerms(full.command, terms)?.spans ?? [] });
    if (hits.length >= limit) break;
  }
  return hits;
}

/** The newest `window` rows selected by the filters whose command matches the terms. */
function scanWindow(db: Db, f: Filters, window: number, score: Scorer): WindowRow[] {
  const rows = db
    .prepare<Record<string, string | number>, WindowRow>(
      `SELECT c.id, c.ts, c.command FROM commands c WHERE 1${f.sql} ORDER BY c.ts DESC, c.id DESC`,
    )
    .raw()
    .iterate(f.params);
  const out: WindowRow[] = [];
  for (const row of rows) {
    if (score(row[2]) === undefined) continue;
    out.push(row);
    if (out.length >= window) break;
  }
  return out;
}

/** Filters only, or a pattern with no word in it (`|`): substring match, newest first. */
function newestMatching(db: Db, literal: string, f: Filters, limit: number, distinct: boolean): SearchHit[] {
  const substring = literal.length > 0 ? ' AND instr(c.command, @literal) > 0' : '';
  const rows = db
    .prepare<Record<string, string | number>, Row>(
      `SELECT ${HIT_COLUMNS} FROM commands c WHERE 1${f.sql}${substring} ORDER BY c.ts DESC, c.id DESC`,
    )
    .iterate({ ...f.params, ...(substring ? { literal } : {}) });
  const hits: SearchHit[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (distinct) {
      if (seen.has(row.command)) continue;
      seen.add(row.command);
    }
    hits.push({ ...row, score: 0, spans: literalSpans(row.command, literal) });
    if (hits.length >= limit) break;
  }
  return hits;
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
