import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { AuthError, ConfigError, UsageError } from '../../../schemas/errors.ts';
import type { Store } from '../store/store.ts';

/**
 * What init/join learn about the network, kept in the `config` table under internal keys (not
 * user configuration: `/set config` cannot change them). The secrets themselves live in key files.
 */
export const NETWORK_KEYS = {
  brokers: 'network.brokers',
  fingerprint: 'network.fingerprint',
  certPem: 'network.broker_cert',
  networkPk: 'network.public_key',
  rosterEntry: 'network.roster_entry',
  insecure: 'network.insecure',
  /** earlier network public keys (base64, comma-separated, oldest first), kept after rotations */
  previousNetworkPks: 'network.previous_public_keys',
  /** `token` (isaac-broker) or `static-password` (Mosquitto, EMQX, RabbitMQ): see BrokerLogin */
  brokerLogin: 'network.broker_login',
} as const;

/**
 * How this machine logs in to the broker: isaac-broker checks a TTL token minted per connect
 * from the login secret; brokers that only know static passwords get the password kept in
 * ISAAC_HOME/broker-password (0600).
 */
export type BrokerLogin = 'token' | 'static-password';

export interface NetworkSettings {
  name: string;
  brokers: string[];
  fingerprint: string;
  /** the pinned broker certificate (absent for plain mqtt:// networks) */
  certPem: string | undefined;
  networkPk: Uint8Array;
  /** this machine's own roster entry, signed: re-published retained on every connect */
  rosterEntry: Uint8Array;
  insecure: boolean;
  /** absent: `token` */
  brokerLogin?: BrokerLogin;
}

export function saveNetworkSettings(store: Store, s: NetworkSettings): void {
  store.db.transaction(() => {
    store.config.set('machine.name', s.name);
    store.config.setInternal(NETWORK_KEYS.brokers, s.brokers.join(','));
    store.config.setInternal(NETWORK_KEYS.fingerprint, s.fingerprint);
    if (s.certPem !== undefined) store.config.setInternal(NETWORK_KEYS.certPem, s.certPem);
    store.config.setInternal(NETWORK_KEYS.networkPk, Buffer.from(s.networkPk).toString('base64'));
    store.config.setInternal(NETWORK_KEYS.rosterEntry, Buffer.from(s.rosterEntry).toString('base64'));
    store.config.setInternal(NETWORK_KEYS.insecure, s.insecure ? 'on' : 'off');
    store.config.setInternal(NETWORK_KEYS.brokerLogin, s.brokerLogin ?? 'token');
  })();
}

/** The saved settings, or undefined when this machine never completed init/join. */
export function loadNetworkSettings(store: Store): NetworkSettings | undefined {
  const brokers = store.config.get(NETWORK_KEYS.brokers);
  const networkPk = store.config.get(NETWORK_KEYS.networkPk);
  const rosterEntry = store.config.get(NETWORK_KEYS.rosterEntry);
  const name = store.config.get('machine.name');
  if (!brokers || !networkPk || !rosterEntry || !name) return undefined;
  return {
    name,
    brokers: brokers.split(',').filter(Boolean),
    fingerprint: store.config.get(NETWORK_KEYS.fingerprint) ?? '',
    certPem: store.config.get(NETWORK_KEYS.certPem),
    networkPk: new Uint8Array(Buffer.from(networkPk, 'base64')),
    rosterEntry: new Uint8Array(Buffer.from(rosterEntry, 'base64')),
    insecure: store.config.get(NETWORK_KEYS.insecure) === 'on',
    brokerLogin:
      store.config.get(NETWORK_KEYS.brokerLogin) === 'static-password' ? 'static-password' : 'token',
  };
}

export function requireNetworkSettings(store: Store): NetworkSettings {
  const settings = loadNetworkSettings(store);
  if (!settings) {
    throw new ConfigError('this machine is not part of a network', {
      hint: 'run `isaac-node init` (first machine) or `isaac-node join CODE`',
    });
  }
  return settings;
}

/** Network public keys this machine used before the current one (oldest first). */
export function loadPreviousNetworkPks(store: Store): Uint8Array[] {
  const text = store.config.get(NETWORK_KEYS.previousNetworkPks) ?? '';
  return text
    .split(',')
    .filter(Boolean)
    .map((b64) => new Uint8Array(Buffer.from(b64, 'base64')))
    .filter((pk) => pk.length === 32);
}

/**
 * Records a rotation: `networkPk` becomes current, the key it replaces joins the previous list,
 * and this machine's own roster entry is the one re-signed with the new key.
 */
export function saveRotatedNetworkKey(
  store: Store,
  rotation: { networkPk: Uint8Array; previousPk: Uint8Array; rosterEntry: Uint8Array },
): void {
  store.db.transaction(() => {
    const b64 = (pk: Uint8Array) => Buffer.from(pk).toString('base64');
    const previous = loadPreviousNetworkPks(store).map(b64);
    if (!previous.includes(b64(rotation.previousPk))) previous.push(b64(rotation.previousPk));
    const kept = previous.filter((pk) => pk !== b64(rotation.networkPk));
    store.config.setInternal(NETWORK_KEYS.previousNetworkPks, kept.join(','));
    store.config.setInternal(NETWORK_KEYS.networkPk, b64(rotation.networkPk));
    store.config.setInternal(NETWORK_KEYS.rosterEntry, b64(rotation.rosterEntry));
  })();
}

// ---- the static broker password (brokers without Isaac's TTL tokens) ----------------------------

const BROKER_PASSWORD_FILE = 'broker-password';
const MAX_PASSWORD_BYTES = 1024;

export function brokerPasswordPath(home: string): string {
  return join(home, BROKER_PASSWORD_FILE);
}

/**
 * Reads the password the broker's administrator gave this machine (`--broker-password-file`):
 * the file's first line, without its line break. A missing, empty or oversized file is refused.
 */
export function readBrokerPasswordFile(path: string): string {
  let text: string;
  try {
    if (statSync(path).size > MAX_PASSWORD_BYTES) throw new Error('too large');
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as Error).message === 'too large' ? 'is too large to be a password' : 'cannot be read';
    throw new UsageError(`the broker password file ${path} ${why}`, {
      hint: 'give the file that holds only the password the broker administrator set for this machine',
    });
  }
  const [first = '', ...more] = text.replace(/\r?\n$/, '').split(/\r?\n/);
  if (first === '' || more.some((line) => line.trim() !== '')) {
    throw new UsageError(`the broker password file ${path} must hold the password alone on one line`, {
      hint: 'write just the password into it (a trailing line break is fine)',
    });
  }
  return first;
}

/** Stores the password 0600 in ISAAC_HOME (write, fsync, rename: never half a password). */
export function installBrokerPassword(home: string, password: string): void {
  const path = brokerPasswordPath(home);
  const staging = `${path}.new-${process.pid}`;
  rmSync(staging, { force: true });
  const fd = openSync(staging, 'wx', 0o600);
  try {
    writeSync(fd, `${password}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(staging, 0o600);
  renameSync(staging, path);
}

export function removeBrokerPassword(home: string): void {
  rmSync(brokerPasswordPath(home), { force: true });
}

/** The stored password; refused like a key file when missing or readable by other users. */
export function loadBrokerPassword(home: string): string {
  const path = brokerPasswordPath(home);
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new ConfigError(`this machine logs in with a static broker password, but ${path} is missing`, {
      hint: 'write the password the broker administrator set for this machine into it (chmod 600)',
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new AuthError(
      `broker password file ${path} is readable or writable by other users (mode ${(mode & 0o777).toString(8)})`,
      { hint: `chmod 600 ${path}` },
    );
  }
  return readBrokerPasswordFile(path);
}
