import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../schemas/errors.ts';
import { BrokerState } from './state.ts';
import { generateTls, TLS_CERT_FILE, TLS_KEY_FILE } from './tls.ts';

export interface InitResult {
  dataDir: string;
  fingerprint: string;
  setupToken: string;
}

/** `isaac-broker init`: TLS key + self-signed cert, state DB, one-time setup token. */
export function initDataDir(dataDir: string, hostNames: string[] = []): InitResult {
  if (existsSync(join(dataDir, TLS_CERT_FILE)) || existsSync(join(dataDir, TLS_KEY_FILE))) {
    throw new UsageError(`${dataDir} is already initialized`, {
      hint: 'start it with `isaac-broker start --data DIR`, or init a new, empty directory',
    });
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const tls = generateTls(dataDir, hostNames.length > 0 ? hostNames : ['localhost']);
  chmodSync(join(dataDir, TLS_KEY_FILE), 0o600);
  const setupToken = newSetupToken();
  const state = new BrokerState(dataDir);
  state.setSetupToken(setupToken);
  state.close();
  return { dataDir, fingerprint: tls.fingerprint, setupToken };
}

/**
 * A one-time setup token. base64url may start with `-`, which a command line then reads as
 * options (`isaac-node init --setup-token -T…` failed 1 time in 64), so such draws are redrawn.
 */
export function newSetupToken(): string {
  for (;;) {
    const token = randomBytes(24).toString('base64url');
    if (!token.startsWith('-')) return token;
  }
}
