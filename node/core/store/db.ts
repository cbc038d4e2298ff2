import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError } from '../../../schemas/errors.ts';
import { ensureHome, paths } from '../paths.ts';
import { commandKind } from './command-kind.ts';
import { assertIntact, isCorruption, moveAside, salvageInto } from './damaged.ts';
import { machineNameFrom } from './machine-name.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

export interface OpenOptions {
  readonly?: boolean;
  /** Where the one line about a repaired database goes (default: stderr). */
  notice?: (line: string) => void;
}

/**
 * Opens (creating if needed) `$ISAAC_HOME/isaac.db` in WAL mode and runs pending migrations.
 * A damaged file is moved aside as `isaac.db.damaged-DATE`, a fresh one takes its place with
 * every row SQLite can still read, and one line says so; peers' catch-up refills the rest.
 */
export function openDatabase(home: string, options: OpenOptions = {}): Db {
  ensureHome(home);
  const file = paths.database(home);
  if (options.readonly) return openChecked(file, options);
  try {
    return openChecked(file, options);
  } catch (err) {
    if (!isCorruption(err)) throw err;
    const damaged = moveAside(file);
    const db = openChecked(file, options);
    const saved = salvageInto(db, damaged);
    const notice = options.notice ?? ((line: string) => void process.stderr.write(`${line}\n`));
    notice(
      `isaac: the history database ${file} was damaged (${(err as Error).message.replace(/\s+/g, ' ')}); it was moved to ${damaged} ` +
        `and a fresh one started with the ${saved} rows that could be read; other machines send back synced history`,
    );
    return db;
  }
}

function openChecked(file: string, options: OpenOptions): Db {
  let db: Db;
  try {
    // the history holds what was typed and its output: owner-only, like the keys (-wal/-shm follow)
    if (!options.readonly) {
      closeSync(openSync(file, 'a', 0o600));
      chmodSync(file, 0o600);
    }
    db = new Database(file, { readonly: options.readonly ?? false });
  } catch (err) {
    throw new StoreError(`cannot open the history database ${file}`, {
      hint: 'check that ISAAC_HOME is writable by you',
      cause: err,
    });
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('temp_store = MEMORY');
      assertIntact(db, file);
      migrate(db);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** In-memory database with the full schema, for pure unit tests of code that needs a store. */
export function openMemoryDatabase(): Db {
  const db = new Database(':memory:');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  db.function('isaac_command_kind', { deterministic: true }, (command: unknown, source: unknown) =>
    commandKind(String(command), String(source)),
  );
  db.function('isaac_machine_name', (configured: unknown) =>
    machineNameFrom(typeof configured === 'string' ? configured : undefined),
  );
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new StoreError(`the database schema (version ${current}) is newer than this Isaac (${latest})`, {
      hint: 'upgrade Isaac on this machine',
    });
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
