import { ConfigError } from '../../../schemas/errors.ts';
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
} as const;

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
