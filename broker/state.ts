import { createHash, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../schemas/errors.ts';
import { ensurePrivateFile } from './private-files.ts';

/**
 * The broker's own small state DB (separate from the MQTT persistence): which machines may log in
 * with which HMAC secret, the bound network key, the setup token (hashed) and remembered nonces.
 */
export const STATE_DB_FILE = 'broker-state.db';

export interface MachineRow {
  name: string;
  secret: Buffer;
  enrolledAt: number;
  revokedAt: number | null;
}

export interface StateSnapshot {
  networkPk: Buffer | undefined;
  setupTokenSha256: Buffer | undefined;
  machines: MachineRow[];
  observers: { name: string; passwordSha256: Buffer }[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS machines (
  name TEXT PRIMARY KEY,
  secret BLOB NOT NULL,
  enrolled_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS observers (
  name TEXT PRIMARY KEY,
  password_sha256 BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL);
`;

export class BrokerState {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    try {
      ensurePrivateFile(join(dataDir, STATE_DB_FILE));
      this.db = new Database(join(dataDir, STATE_DB_FILE));
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new StoreError(`cannot open the broker state in ${dataDir}`, {
        cause: err,
        hint: 'run `isaac-broker init --data DIR` first and check the directory permissions',
      });
    }
  }

  close(): void {
    this.db.close();
  }

  machine(name: string): MachineRow | undefined {
    const row = this.db
      .prepare('SELECT name, secret, enrolled_at, revoked_at FROM machines WHERE name = ?')
      .get(name) as
      | { name: string; secret: Buffer; enrolled_at: number; revoked_at: number | null }
      | undefined;
    if (!row) return undefined;
    return { name: row.name, secret: row.secret, enrolledAt: row.enrolled_at, revokedAt: row.revoked_at };
  }

  machines(): MachineRow[] {
    const rows = this.db
      .prepare('SELECT name, secret, enrolled_at, revoked_at FROM machines ORDER BY name')
      .all() as { name: string; secret: Buffer; enrolled_at: number; revoked_at: number | null }[];
    return rows.map((r) => ({
      name: r.name,
      secret: r.secret,
      enrolledAt: r.enrolled_at,
      revokedAt: r.revoked_at,
    }));
  }

  /** Adds or re-keys a machine; re-enrolling a revoked name makes it a member again. */
  enroll(name: string, secret: Uint8Array, nowMs = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO machines (name, secret, enrolled_at, revoked_at) VALUES (?, ?, ?, NULL)
         ON CONFLICT(name) DO UPDATE SET secret = excluded.secret, enrolled_at = excluded.enrolled_at, revoked_at = NULL`,
      )
      .run(name, Buffer.from(secret), nowMs);
  }

  /**
   * Enrolls `name` unless it is enrolled and not revoked (then false: an existing name is never
   * re-keyed by an enrollment; it is revoked first). One transaction, so two enrollments of the
   * same name cannot both win.
   */
  enrollNew(name: string, secret: Uint8Array, nowMs = Date.now()): boolean {
    return this.db.transaction(() => {
      const current = this.machine(name);
      if (current && current.revokedAt === null) return false;
      this.enroll(name, secret, nowMs);
      return true;
    })();
  }

  /** Keeps the row (so the refusal says "revoked", not "unknown") but forgets the secret. */
  revoke(name: string, nowMs = Date.now()): boolean {
    const result = this.db
      .prepare(
        'UPDATE machines SET revoked_at = ?, secret = zeroblob(32) WHERE name = ? AND revoked_at IS NULL',
      )
      .run(nowMs, name);
    return result.changes > 0;
  }

  private meta(key: string): Buffer | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: Buffer }
      | undefined;
    return row?.value;
  }

  private setMeta(key: string, value: Uint8Array | string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, typeof value === 'string' ? Buffer.from(value) : Buffer.from(value));
  }

  networkPk(): Uint8Array | undefined {
    const value = this.meta('network_pk');
    return value ? new Uint8Array(value) : undefined;
  }

  setSetupToken(token: string): void {
    this.setMeta('setup_token_sha256', sha256(token));
  }

  /** Constant-time check of the one-time setup token; false once it has been used. */
  setupTokenMatches(token: string): boolean {
    const stored = this.meta('setup_token_sha256') ?? Buffer.alloc(0);
    if (stored.length !== 32) return false;
    return timingSafeEqual(stored, sha256(token));
  }

  /** Binds the network key, consumes the setup token and enrolls the first machine, atomically. */
  bind(networkPk: Uint8Array, name: string, secret: Uint8Array, nowMs = Date.now()): void {
    this.db.transaction(() => {
      this.setMeta('network_pk', networkPk);
      this.db.prepare("DELETE FROM meta WHERE key = 'setup_token_sha256'").run();
      this.enroll(name, secret, nowMs);
    })();
  }

  /**
   * Replaces the bound network key (op `rotate`), only if `expected` is still the bound one; the old
   * key is kept under `network_pk_retired.<ms>` for the record, never for checking requests.
   */
  rotateNetworkKey(expected: Uint8Array, next: Uint8Array, nowMs = Date.now()): boolean {
    return this.db.transaction(() => {
      const current = this.meta('network_pk');
      if (!current?.equals(Buffer.from(expected))) return false;
      this.setMeta(`network_pk_retired.${nowMs}`, current);
      this.setMeta('network_pk', next);
      return true;
    })();
  }

  /** The network keys a rotation replaced, with when (newest first): to tell an old invite why it fails. */
  retiredNetworkKeys(): { pk: Uint8Array; retiredAt: number }[] {
    const rows = this.db
      .prepare("SELECT key, value FROM meta WHERE key LIKE 'network_pk_retired.%'")
      .all() as { key: string; value: Buffer }[];
    return retiredKeys(rows.map((r) => [r.key, r.value]));
  }

  /**
   * Read-only observers (Home Assistant, dashboards): a static, broker-generated random password
   * (high entropy, so a plain SHA-256 is enough and keeps logins cheap).
   */
  addObserver(name: string, password: string, nowMs = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO observers (name, password_sha256, created_at) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET password_sha256 = excluded.password_sha256, created_at = excluded.created_at`,
      )
      .run(name, sha256(password), nowMs);
  }

  removeObserver(name: string): boolean {
    return this.db.prepare('DELETE FROM observers WHERE name = ?').run(name).changes > 0;
  }

  observers(): string[] {
    return (this.db.prepare('SELECT name FROM observers ORDER BY name').all() as { name: string }[]).map(
      (r) => r.name,
    );
  }

  /** undefined: no such observer; otherwise whether the password matches. */
  observerPasswordMatches(name: string, password: string): boolean | undefined {
    const row = this.db.prepare('SELECT password_sha256 FROM observers WHERE name = ?').get(name) as
      | { password_sha256: Buffer }
      | undefined;
    if (!row) return undefined;
    return row.password_sha256.length === 32 && timingSafeEqual(row.password_sha256, sha256(password));
  }

  /** Records a nonce until it expires; false if it was already there (a replay). */
  rememberNonce(nonce: string, expiresMs: number): boolean {
    const result = this.db
      .prepare('INSERT OR IGNORE INTO nonces (nonce, expires_ms) VALUES (?, ?)')
      .run(nonce, expiresMs);
    return result.changes > 0;
  }

  /** Everything cluster mode copies into an empty Redis on its first start (broker/state-redis.ts). */
  snapshot(): StateSnapshot {
    const observers = this.db.prepare('SELECT name, password_sha256 FROM observers').all() as {
      name: string;
      password_sha256: Buffer;
    }[];
    return {
      networkPk: this.meta('network_pk'),
      setupTokenSha256: this.meta('setup_token_sha256'),
      machines: this.machines(),
      observers: observers.map((o) => ({ name: o.name, passwordSha256: o.password_sha256 })),
    };
  }

  pruneNonces(nowMs = Date.now()): number {
    return this.db.prepare('DELETE FROM nonces WHERE expires_ms < ?').run(nowMs).changes;
  }
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** `network_pk_retired.<ms>` meta entries (SQLite or Redis) as keys with their retirement time, newest first. */
export function retiredKeys(entries: readonly [string, Buffer][]): { pk: Uint8Array; retiredAt: number }[] {
  return entries
    .map(([key, value]) => ({
      retiredAt: Number(key.slice('network_pk_retired.'.length)),
      pk: new Uint8Array(value),
    }))
    .filter((k) => Number.isSafeInteger(k.retiredAt) && k.pk.length === 32)
    .sort((a, b) => b.retiredAt - a.retiredAt);
}
