import { existsSync, readFileSync, statfsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { paths } from '../paths.ts';
import { type Db, migrate } from './db.ts';
import { openStore, Store } from './store.ts';

/** SQLite and file-system codes that mean "the database cannot be written right now". */
const WRITE_FAILURE =
  /^(SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|CANTOPEN|PERM)|ENOSPC|EROFS|EACCES|EPERM|EDQUOT)/;

function codeOf(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === 'string' && WRITE_FAILURE.test(code)) return code;
  }
  return undefined;
}

/** True when `err` says the store cannot write (disk full, read-only, locked), not that it is broken. */
export function isWriteFailure(err: unknown): boolean {
  return codeOf(err) !== undefined;
}

/** A short human reason for a write failure: "the disk is full", "the database is read-only". */
export function writeFailureReason(err: unknown, home?: string): string {
  const code = codeOf(err) ?? '';
  if (/FULL|ENOSPC|EDQUOT/.test(code) || (home !== undefined && diskFull(home))) return 'the disk is full';
  if (/READONLY|EROFS|EACCES|EPERM|SQLITE_PERM/.test(code)) return 'the database is read-only';
  if (/BUSY|LOCKED/.test(code)) return 'the database is locked by another program';
  if (/CANTOPEN/.test(code)) return 'the database cannot be opened for writing';
  return 'the disk reports an I/O error';
}

/** SQLite reports a full disk as an I/O error when it cannot grow its shared-memory file. */
function diskFull(home: string): boolean {
  try {
    const fs = statfsSync(home);
    return fs.bavail === 0 || fs.ffree === 0;
  } catch {
    return false;
  }
}

export interface ShellStore {
  store: Store;
  /** The real database could not be opened for writing and `store` is an in-memory copy. */
  isCopy: boolean;
}

/**
 * Opens the store for the `isaac` shell, which must run commands even when the database cannot be
 * written. On a write failure the shell gets an in-memory copy of what can still be read (config,
 * history for recall), or an empty store, and the history recorder keeps trying the real file.
 */
export function openShellStore(home: string): ShellStore {
  try {
    return { store: openStore(home), isCopy: false };
  } catch (err) {
    if (!isWriteFailure(err)) throw err;
    return { store: new Store(readableCopy(paths.database(home)), home), isCopy: true };
  }
}

/** An in-memory database holding what the file still lets us read, migrated to the current schema. */
function readableCopy(file: string): Db {
  let db: Db | undefined;
  if (existsSync(file)) {
    try {
      const source = new Database(file, { readonly: true, fileMustExist: true });
      try {
        db = new Database(source.serialize());
      } finally {
        source.close();
      }
    } catch {
      db = fromRawBytes(file);
    }
  }
  db ??= new Database(':memory:');
  try {
    migrate(db);
  } catch {
    db.close();
    db = new Database(':memory:');
    migrate(db);
  }
  return db;
}

/** Reads the file's bytes as a database; a WAL-mode header is switched to rollback so memory can hold it. */
function fromRawBytes(file: string): Db | undefined {
  try {
    const bytes = readFileSync(file);
    if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) {
      bytes[18] = 1;
      bytes[19] = 1;
    }
    const db = new Database(bytes);
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch {
    return undefined;
  }
}
