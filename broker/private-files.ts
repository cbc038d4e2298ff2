import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import { ConfigError } from '../schemas/errors.ts';

/**
 * The broker's secrets on disk (DESIGN.md: keys and databases are 0600): broker-state.db holds
 * every machine's HMAC secret, sessions.db the sealed queues, tls-key.pem the TLS key. Databases
 * are created 0600 before SQLite opens them (its -wal and -shm files take the database's mode);
 * the broker refuses to start when the data dir or the TLS key is open to other users.
 */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/** Throws a ConfigError with the chmod that fixes it when group or others can access `path`. */
export function refuseIfShared(path: string, what: string, fix: number): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `${what} ${path} is accessible to other users (mode ${mode.toString(8)}); refusing to start`,
      { hint: `run: chmod ${fix.toString(8)} ${path}` },
    );
  }
}
