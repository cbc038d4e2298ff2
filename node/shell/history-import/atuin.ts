import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { UsageError } from '../../../schemas/errors.ts';
import type { ParsedEntry, ParseResult } from './parsers.ts';

/** Control characters other than tab and newline: binary garbage, not a command. */
const GARBAGE = /[\x00-\x08\x0b-\x1f\x7f]/;

interface AtuinRow {
  id: unknown;
  timestamp: unknown;
  duration: unknown;
  exit: unknown;
  command: unknown;
  cwd: unknown;
  hostname: unknown;
  deleted_at: unknown;
}

export interface AtuinResult extends ParseResult {
  /** Rows recorded on other hosts (Atuin syncs every machine's history into each database). */
  otherHosts: number;
}

/**
 * Reads Atuin's history database (`history.db`, table `history`: `timestamp` and `duration` in
 * nanoseconds, `exit` and `duration` -1 while unknown, `hostname` as `host:user`, `deleted_at`
 * set once deleted). Only this host's rows are taken unless `allHosts`: Atuin's sync puts every
 * machine's history into each database, and Isaac's own sync brings the others' records here.
 * Opened read-only; the file is never changed.
 */
export function readAtuinHistory(
  file: string,
  options: { allHosts?: boolean; host?: string } = {},
): AtuinResult {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new UsageError(`cannot open ${file} as an Atuin database (${(err as Error).message})`, {
      hint: 'give Atuin’s history.db: isaac import atuin ~/.local/share/atuin/history.db',
    });
  }
  try {
    return readRows(db, file, options.allHosts === true, (options.host ?? hostname()).toLowerCase());
  } finally {
    db.close();
  }
}

function readRows(db: Database.Database, file: string, allHosts: boolean, host: string): AtuinResult {
  let columns: string[];
  try {
    columns = db
      .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('history')")
      .all()
      .map((c) => c.name);
  } catch (err) {
    throw new UsageError(`${file} is not a SQLite database (${(err as Error).message})`, {
      hint: 'give Atuin’s history.db: isaac import atuin FILE',
    });
  }
  const needed = ['id', 'timestamp', 'duration', 'exit', 'command', 'cwd', 'hostname'];
  const missing = needed.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new UsageError(`${file} has no Atuin history table (missing ${missing.join(', ')})`, {
      hint: 'give Atuin’s history.db: isaac import atuin FILE',
    });
  }
  const deletedAt = columns.includes('deleted_at') ? 'deleted_at' : 'NULL AS deleted_at';
  const result: AtuinResult = { entries: [], malformed: 0, skipped: 0, deleted: 0, otherHosts: 0 };
  const rows = db
    .prepare<[], AtuinRow>(
      `SELECT id, timestamp, duration, exit, command, cwd, hostname, ${deletedAt}
       FROM history ORDER BY timestamp, rowid`,
    )
    .iterate();
  for (const row of rows) {
    if (row.deleted_at !== null) {
      result.deleted = (result.deleted ?? 0) + 1;
      continue;
    }
    const entry = entryOf(row);
    if (!entry) {
      result.malformed++;
      continue;
    }
    const rowHost = typeof row.hostname === 'string' ? row.hostname.split(':')[0]!.toLowerCase() : '';
    if (!allHosts && rowHost !== host) {
      result.otherHosts++;
      continue;
    }
    if (entry.command.startsWith(' ') || entry.command.startsWith('\t')) {
      result.skipped++;
      continue;
    }
    result.entries.push(entry);
  }
  return result;
}

/** A row as an entry, or undefined when it cannot be one (wrong types, no command, garbage). */
function entryOf(row: AtuinRow): ParsedEntry | undefined {
  const { command, timestamp } = row;
  if (typeof command !== 'string' || command.trim() === '' || GARBAGE.test(command)) return undefined;
  const nanos = typeof timestamp === 'bigint' ? Number(timestamp) : timestamp;
  if (typeof nanos !== 'number' || !Number.isFinite(nanos) || nanos <= 0) return undefined;
  const tsMs = Math.floor(nanos / 1e6);
  if (tsMs > Date.now() + 365 * 86_400_000) return undefined; // not nanoseconds of this era
  const entry: ParsedEntry = { command, tsMs, sourceId: String(row.id) };
  if (typeof row.duration === 'number' && row.duration >= 0)
    entry.durationMs = Math.round(row.duration / 1e6);
  if (typeof row.exit === 'number' && row.exit >= 0) entry.exit = row.exit;
  if (typeof row.cwd === 'string' && row.cwd.startsWith('/')) entry.cwd = row.cwd;
  return entry;
}
