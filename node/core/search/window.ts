import type { Db } from '../store/db.ts';
import { ftsMatch, type QueryTerm } from './query.ts';

/** One candidate of the ranking window: [id, ts, command], as SQLite hands it over (raw rows). */
export type WindowRow = [id: number, ts: number, command: string];

/** What the window queries filter on besides the words (see search.ts `filters`). */
export interface WindowFilters {
  sql: string;
  params: Record<string, string | number>;
  /** Read the wide table for the filters (a column the covering index lacks, or no such index). */
  needsRow: boolean;
}

/** Does `command` match the terms, and how closely (TermMatch.score)? undefined: no match. */
export type Scorer = (command: string) => number | undefined;

const statements = new WeakMap<Db, Map<string, ReturnType<Db['prepare']>>>();

/** Statements of the window queries, prepared once per database and SQL text. */
function prepared(db: Db, sql: string): ReturnType<Db['prepare']> {
  let byText = statements.get(db);
  if (!byText) {
    byText = new Map();
    statements.set(db, byText);
  }
  let stmt = byText.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql).raw();
    byText.set(sql, stmt);
  }
  return stmt;
}

function ftsSql(f: WindowFilters, more = ''): string {
  // CROSS JOIN keeps the FTS doclist as the outer loop; otherwise the planner may drive from
  // commands_origin_ts and probe FTS per row, which is a thousand times slower. Filters on
  // origin/exit/ts read the narrow covering index (the row itself only for the command text).
  // Without filters the row is looked up by rowid directly (the command text is in it anyway).
  const index = f.needsRow || f.sql === '' ? '' : ' INDEXED BY commands_search_filter';
  return `SELECT c.id, c.ts, c.command FROM commands_fts CROSS JOIN commands c${index} ON c.id = commands_fts.rowid
     WHERE commands_fts MATCH @match${f.sql}${more}
     ORDER BY commands_fts.rowid DESC LIMIT @n`;
}

/** The newest `window` FTS matches (rowid order) that pass the filters: the index decides. */
export function ftsWindow(db: Db, match: string, f: WindowFilters, window: number): WindowRow[] {
  return prepared(db, ftsSql(f)).all({ ...f.params, match, n: window }) as WindowRow[];
}

/** Prefix lengths the FTS table keeps an index for (migration 1: prefix='2 3'). */
const INDEXED_PREFIX = 3;
const ASCII = /^[\x00-\x7f]*$/;
const FIRST_LOOK = 100;

/**
 * The same window as ftsWindow, found faster when a term ends in a long prefix (`nginx*`, the
 * implicit prefix on the last word): FTS5 answers a prefix its prefix index does not hold by
 * merging the doclists of every token that starts with it, all of them, whatever the LIMIT
 * (2-6 ms over a million rows). Here the index is asked for the 3-letter prefix instead, which
 * it reads newest first and stops early, and `score` keeps the rows that match the real terms.
 * That is exact for ASCII commands, where the JavaScript tokenizer and FTS5's unicode61 agree
 * (letters and digits, folded to lower case). A non-ASCII command among the candidates, or a
 * 3-letter prefix so much more common that the scan would cost more than the merge, returns
 * undefined: the caller asks FTS5 the original question.
 */
export function narrowedWindow(
  db: Db,
  terms: readonly QueryTerm[],
  f: WindowFilters,
  window: number,
  score: Scorer,
): WindowRow[] | undefined {
  let narrowed = false;
  const wide = terms.map((term) => {
    const last = term.tokens[term.tokens.length - 1]!;
    if (!term.prefix || last.length <= INDEXED_PREFIX || !ASCII.test(last)) return term;
    narrowed = true;
    return { tokens: [...term.tokens.slice(0, -1), last.slice(0, INDEXED_PREFIX)], prefix: true };
  });
  if (!narrowed) return undefined;
  const match = ftsMatch(wide);
  const stmt = prepared(db, ftsSql(f, ' AND commands_fts.rowid < @before'));
  const out: WindowRow[] = [];
  let scanned = 0;
  // a small first look: a rare long prefix behind a common short one is given up cheaply
  for (let before = Number.MAX_SAFE_INTEGER, chunk = FIRST_LOOK; ; chunk = window) {
    const rows = stmt.all({ ...f.params, match, before, n: chunk }) as WindowRow[];
    for (const row of rows) {
      if (!ASCII.test(row[2])) return undefined;
      if (score(row[2]) === undefined) continue;
      out.push(row);
      if (out.length >= window) return out;
    }
    scanned += rows.length;
    if (rows.length < chunk) return out; // every candidate seen: the window holds all matches
    // At this hit rate, filling the window would read more rows than the merge costs.
    if (out.length * 4 < scanned) return undefined;
    before = rows[rows.length - 1]![0];
  }
}
