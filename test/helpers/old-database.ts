import Database from 'better-sqlite3';
import { migrate } from '../../node/core/store/db.ts';

/**
 * A database file as an older Isaac left it: migrations 1 to `version` and no later one, so a test
 * can put old rows in it and see what opening it with this Isaac makes of them.
 */
export function databaseAtVersion(file: string, version: number): Database.Database {
  const db = new Database(file);
  migrate(db, version);
  return db;
}
