/**
 * Tables of the SQLite persistence. Packets are stored as v8-serialised plain objects (keeps
 * Buffers, strings and undefined-valued keys exactly as Aedes handed them over); the columns
 * beside them are only what we look rows up by.
 */
import type Database from 'better-sqlite3';

export type Synchronous = 'normal' | 'full';

const SCHEMA_VERSION = 1;

export function openSchema(db: Database.Database, synchronous: Synchronous): void {
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit has reached the kernel (write() to the -wal file) before it
  // returns, so it survives the process being killed (kill -9, OOM); only an OS crash or power
  // cut can lose the last commits. FULL also fsyncs every commit, surviving power loss too.
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  // Queued payloads (up to 256 KiB) are written and soon deleted again: a larger WAL lets freed
  // pages be reused before a checkpoint copies them into the database (and fsyncs it), which
  // about doubles 64 KiB throughput; the WAL is truncated back to 64 MiB after checkpoints.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('journal_size_limit = 67108864');
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, packet BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS subscriptions (
      client_id TEXT NOT NULL, topic TEXT NOT NULL, record BLOB NOT NULL,
      PRIMARY KEY (client_id, topic)
    );
    CREATE TABLE IF NOT EXISTS outgoing (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      client_id TEXT NOT NULL,
      broker_id TEXT,
      broker_counter INTEGER,
      message_id INTEGER,
      packet BLOB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS outgoing_by_client ON outgoing (client_id, seq);
    CREATE INDEX IF NOT EXISTS outgoing_by_counter ON outgoing (client_id, broker_id, broker_counter);
    CREATE TABLE IF NOT EXISTS incoming (
      client_id TEXT NOT NULL, message_id INTEGER NOT NULL, packet BLOB NOT NULL,
      PRIMARY KEY (client_id, message_id)
    );
    CREATE TABLE IF NOT EXISTS wills (client_id TEXT PRIMARY KEY, broker_id TEXT, packet BLOB NOT NULL);
  `);
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get('schema_version') as
    | { value: string }
    | undefined;
  if (!row) {
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
  } else if (Number(row.value) > SCHEMA_VERSION) {
    throw new Error(`persistence schema ${row.value} is newer than this isaac-broker understands`);
  }
}
