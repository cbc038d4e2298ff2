import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError } from '../../../schemas/errors.ts';
import { ensureHome, paths } from '../paths.ts';
import { commandKind } from './command-kind.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

/** Opens (creating if needed) `$ISAAC_HOME/isaac.db` in WAL mode and runs pending migrations. */
export function openDatabase(home: string, options: { readonly?: boolean } = {}): Db {
  ensureHome(home);
  const file = paths.database(home);
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
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    migrate(db);
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
