import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import Database from 'better-sqlite3';

type Db = Database.Database;

/** Files under this size get a full `quick_check` at open; bigger ones the cheap checks below. */
const FULL_CHECK_BYTES = 16 * 1024 * 1024;

/** SQLite's codes for a file that is not (or no longer) a sound database. */
export function isCorruption(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) return true;
  }
  return false;
}

/** A marker beside the database: a corruption was met at run time, so the next open checks fully. */
export function checkMarker(file: string): string {
  return `${file}.needs-check`;
}

/** Asks the next open of `file` for a full check (and so a repair), whatever the file's size. */
export function markForCheck(file: string): void {
  try {
    writeFileSync(checkMarker(file), '', { mode: 0o600 });
  } catch {
    // a disk that cannot take an empty file will show the damage again at the next run
  }
}

/**
 * Throws a SQLITE_CORRUPT-like error when the open database is damaged: a file shorter than its
 * header says (truncated), an unreadable schema or table end, or a failed `quick_check`.
 */
export function assertIntact(db: Db, file: string): void {
  const missing = headerSize(file) - (existsSync(file) ? statSync(file).size : 0);
  if (missing > 0) throw corrupt(`the file is ${missing} bytes shorter than its header says`);
  for (const { name, wr } of plainTables(db)) {
    if (wr) {
      db.prepare(`SELECT * FROM "${name}" LIMIT 1`).all();
      continue;
    }
    db.prepare(`SELECT * FROM "${name}" ORDER BY rowid DESC LIMIT 1`).all();
    db.prepare(`SELECT * FROM "${name}" ORDER BY rowid LIMIT 1`).all();
  }
  const size = existsSync(file) ? statSync(file).size : 0;
  if (size <= FULL_CHECK_BYTES || existsSync(checkMarker(file))) {
    const verdict = db.pragma('quick_check(1)', { simple: true });
    if (verdict !== 'ok') throw corrupt(String(verdict));
  }
}

/** Ordinary tables (not virtual ones), with `wr` set for WITHOUT ROWID tables. */
function plainTables(db: Db): { name: string; wr: number }[] {
  return db
    .prepare<[], { name: string; wr: number }>(
      "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .all();
}

function corrupt(detail: string): Error {
  detail = detail.split('\n')[0] ?? detail;
  return Object.assign(new Error(`database disk image is malformed (${detail})`), { code: 'SQLITE_CORRUPT' });
}

/** The file's size by its header's page count, when that count is valid; else 0. */
function headerSize(file: string): number {
  if (!existsSync(file)) return 0;
  const header = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, header, 0, 100, 0) < 100) return 0;
  } finally {
    closeSync(fd);
  }
  if (!header.subarray(0, 16).equals(Buffer.from('SQLite format 3\0', 'latin1'))) return 0;
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = header.readUInt32BE(28);
  // the page count is trusted only when its "valid for" counter matches the change counter
  if (header.readUInt32BE(92) !== header.readUInt32BE(24)) return 0;
  return pages * pageSize;
}

/** Moves the damaged file (and its WAL, kept paired) to `isaac.db.damaged-DATE`; returns that path. */
export function moveAside(file: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  let target = `${file}.damaged-${stamp}`;
  for (let n = 2; existsSync(target); n++) target = `${file}.damaged-${stamp}-${n}`;
  renameSync(file, target);
  if (existsSync(`${file}-wal`)) renameSync(`${file}-wal`, `${target}-wal`);
  rmSync(`${file}-shm`, { force: true });
  rmSync(checkMarker(file), { force: true });
  return target;
}

/**
 * Copies into `fresh` every row SQLite can still read from `damaged`: through the sqlite3 CLI's
 * `.recover` when it is installed, else row by row. Returns how many rows were saved.
 */
export function salvageInto(fresh: Db, damaged: string): number {
  const recovered = `${damaged}.recovered`;
  const work = `${damaged}.salvage`;
  rmSync(recovered, { force: true });
  try {
    // .recover reads past damage the row-by-row pass cannot, and fails where the CLI lacks the
    // dbpage table (Debian's): both run, and the union is kept (rows are keyed, none doubles)
    const fromCli = recoverWithCli(damaged, recovered) ? copyReadableRows(fresh, recovered) : 0;
    // SQLite refuses a file shorter than its header says; zero pages in the gap read as damage
    copyFileSync(damaged, work);
    if (existsSync(`${damaged}-wal`)) copyFileSync(`${damaged}-wal`, `${work}-wal`);
    const size = headerSize(work);
    if (size > statSync(work).size) truncateSync(work, size);
    return fromCli + copyReadableRows(fresh, work);
  } finally {
    const leftovers = [
      recovered,
      `${recovered}-journal`,
      `${damaged}-shm`,
      work,
      `${work}-wal`,
      `${work}-shm`,
    ];
    for (const leftover of leftovers) rmSync(leftover, { force: true });
    if (existsSync(`${damaged}-wal`) && statSync(`${damaged}-wal`).size === 0) rmSync(`${damaged}-wal`);
  }
}

function recoverWithCli(damaged: string, into: string): boolean {
  // loaded here, not at start-up: only a repair needs it (it costs isaac ~2.5 ms to load)
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const dump = spawnSync('sqlite3', [damaged, '.recover'], { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (dump.status !== 0 || typeof dump.stdout !== 'string' || dump.stdout === '') return false;
  const load = spawnSync('sqlite3', [into], { input: dump.stdout, maxBuffer: 1 << 30 });
  return load.status === 0 || existsSync(into);
}

/** Inserts what can be read, table by table, over the columns both schemas share. */
function copyReadableRows(fresh: Db, sourceFile: string): number {
  let source: Db;
  try {
    source = new Database(sourceFile, { readonly: true, fileMustExist: true });
  } catch {
    return 0;
  }
  let saved = 0;
  try {
    // the full-text index is rebuilt by the insert triggers, never copied
    const tables = plainTables(fresh).filter((t) => !t.wr && !t.name.includes('_fts'));
    fresh.pragma('foreign_keys = OFF');
    for (const { name } of tables) saved += copyTable(fresh, source, name);
    fresh.pragma('foreign_keys = ON');
  } finally {
    source.close();
  }
  return saved;
}

function columnsOf(db: Db, table: string): string[] {
  try {
    return db
      .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
      .all()
      .map((c) => c.name);
  } catch {
    return [];
  }
}

/** Reads in rowid order; where a page cannot be read, jumps ahead in growing steps and goes on. */
function copyTable(fresh: Db, source: Db, table: string): number {
  const have = new Set(columnsOf(source, table));
  const columns = columnsOf(fresh, table).filter((c) => have.has(c));
  if (columns.length === 0) return 0;
  const list = columns.map((c) => `"${c}"`).join(', ');
  const insert = fresh.prepare(
    `INSERT OR IGNORE INTO "${table}"(${list}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  const read = source
    .prepare(`SELECT rowid AS __rowid, ${list} FROM "${table}" WHERE rowid > ? ORDER BY rowid`)
    .raw();
  let saved = 0;
  let after = Number.MIN_SAFE_INTEGER;
  let step = 1;
  fresh.transaction(() => {
    for (let attempts = 0; attempts < 64; attempts++) {
      try {
        for (const row of read.iterate(after) as Iterable<unknown[]>) {
          after = Number(row[0]);
          if (insert.run(...row.slice(1)).changes > 0) saved++;
          step = 1;
        }
        return;
      } catch (err) {
        if (!isCorruption(err)) throw err;
        after = after === Number.MIN_SAFE_INTEGER ? 0 : after + step;
        step *= 2;
      }
    }
  })();
  return saved;
}
