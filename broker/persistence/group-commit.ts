/**
 * Group commit for better-sqlite3: writes run at once inside one open transaction (multi-statement
 * ones as a savepoint, so a failing write undoes only itself) and the transaction commits on the next
 * turn of the event loop. Every write's promise resolves only after its COMMIT returned, so
 * "resolved" still means "on disk", but a burst of messages shares one WAL append.
 */
import type Database from 'better-sqlite3';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class GroupCommit {
  readonly #db: Database.Database;
  readonly #onFailedCommit: () => void;
  #waiters: Waiter[] = [];
  #open = false;

  /** `onFailedCommit` resynchronises in-memory mirrors after a rolled-back batch. */
  constructor(db: Database.Database, onFailedCommit: () => void) {
    this.#db = db;
    this.#onFailedCommit = onFailedCommit;
  }

  /** `atomic`: the write has several statements that must stand or fall together (a savepoint). */
  run<T>(write: () => T, atomic = false): Promise<T> {
    if (!this.#open) {
      this.#db.exec('BEGIN IMMEDIATE');
      this.#open = true;
      setImmediate(() => this.flush());
    }
    let value: T;
    try {
      value = atomic ? this.#db.transaction(write)() : write();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      this.#waiters.push({ resolve: () => resolve(value), reject });
    });
  }

  /** Commits the open batch now (also called before closing the database). */
  flush(): void {
    if (!this.#open) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#open = false;
    try {
      this.#db.exec('COMMIT');
    } catch (err) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // already rolled back by SQLite
      }
      this.#onFailedCommit();
      for (const w of waiters) w.reject(err);
      return;
    }
    for (const w of waiters) w.resolve();
  }
}
