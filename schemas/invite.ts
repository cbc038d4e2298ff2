import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { decodeCbor, encodeCbor } from './codec.ts';
import { UsageError } from './errors.ts';
import { normalizeFingerprint } from './fingerprint.ts';
import { isMachineName } from './names.ts';

/**
 * Invite codes (`isaac invite NAME` -> `isaac-node join CODE`): everything a new machine needs to
 * join, as one copy-pasteable line `isaac1-<base64url(CBOR ‖ checksum)>`. The checksum (first 4
 * bytes of SHA-256) turns a mistyped or truncated code into a clear error instead of garbage.
 * The code carries the network secret key: it is as sensitive as a password until it expires.
 */
export const INVITE_PREFIX = 'isaac1-';
export const INVITE_VERSION = 1;
export const DEFAULT_INVITE_TTL_MS = 24 * 60 * 60 * 1000;
const CHECKSUM_BYTES = 4;

export interface Invite {
  /** broker URLs, mqtts://host:port (mqtt:// only for loopback or insecure test setups) */
  brokers: string[];
  /** `sha256:<hex>` of the broker's TLS certificate */
  fingerprint: string;
  /** the network's Ed25519 secret key (64 bytes, tweetnacl form) */
  networkSecretKey: Uint8Array;
  networkPk: Uint8Array;
  /** the name the new machine will have */
  name: string;
  /** ms since epoch after which the code is refused */
  expires: number;
}

const damaged = () =>
  new UsageError('invite code is damaged (checksum)', {
    hint: 'copy it again, the whole line starting with isaac1-',
  });

export function checkBrokerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid broker URL ${JSON.stringify(url)}`, { hint: 'use mqtts://host:port' });
  }
  if ((parsed.protocol !== 'mqtts:' && parsed.protocol !== 'mqtt:') || parsed.hostname === '') {
    throw new UsageError(`invalid broker URL ${JSON.stringify(url)}`, { hint: 'use mqtts://host:port' });
  }
  if (parsed.pathname !== '' && parsed.pathname !== '/') {
    throw new UsageError(`invalid broker URL ${JSON.stringify(url)}: no path expected`, {
      hint: 'use mqtts://host:port',
    });
  }
  const port = parsed.port === '' ? (parsed.protocol === 'mqtts:' ? '8883' : '1883') : parsed.port;
  return `${parsed.protocol}//${parsed.hostname}:${port}`;
}

function checksum(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest().subarray(0, CHECKSUM_BYTES);
}

export function encodeInvite(invite: Invite): string {
  if (!isMachineName(invite.name))
    throw new UsageError(`invalid machine name ${JSON.stringify(invite.name)}`);
  if (invite.brokers.length === 0) throw new UsageError('an invite needs at least one broker URL');
  const fingerprint = Buffer.from(normalizeFingerprint(invite.fingerprint).slice('sha256:'.length), 'hex');
  const seed = invite.networkSecretKey.subarray(0, 32);
  const body = encodeCbor([
    INVITE_VERSION,
    invite.brokers.map(checkBrokerUrl),
    new Uint8Array(fingerprint),
    seed,
    invite.name,
    Math.floor(invite.expires),
  ]);
  const whole = new Uint8Array(body.length + CHECKSUM_BYTES);
  whole.set(body, 0);
  whole.set(checksum(body), body.length);
  return `${INVITE_PREFIX}${Buffer.from(whole).toString('base64url')}`;
}

/** Decodes a pasted code (whitespace and line breaks ignored); errors are one actionable line. */
export function decodeInvite(code: string, nowMs: number = Date.now()): Invite {
  const text = code.replace(/\s+/g, '');
  if (!text.startsWith(INVITE_PREFIX)) {
    throw new UsageError('this is not an Isaac invite code', {
      hint: 'paste the code printed by `isaac invite NAME` on a member machine; it starts with isaac1-',
    });
  }
  const encoded = text.slice(INVITE_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw damaged();
  const whole = new Uint8Array(Buffer.from(encoded, 'base64url'));
  if (whole.length <= CHECKSUM_BYTES) throw damaged();
  const body = whole.subarray(0, whole.length - CHECKSUM_BYTES);
  const given = whole.subarray(whole.length - CHECKSUM_BYTES);
  if (!Buffer.from(checksum(body)).equals(Buffer.from(given))) throw damaged();

  let fields: unknown;
  try {
    fields = decodeCbor(body);
  } catch {
    throw damaged();
  }
  if (!Array.isArray(fields) || fields[0] !== INVITE_VERSION) {
    throw new UsageError('invite code is from a different Isaac version', {
      hint: 'update isaac on both machines, then make a new invite',
    });
  }
  const [, brokers, fingerprint, seed, name, expires] = fields as unknown[];
  const valid =
    Array.isArray(brokers) &&
    brokers.length > 0 &&
    brokers.every((b) => typeof b === 'string') &&
    fingerprint instanceof Uint8Array &&
    fingerprint.length === 32 &&
    seed instanceof Uint8Array &&
    seed.length === 32 &&
    isMachineName(name) &&
    typeof expires === 'number' &&
    Number.isSafeInteger(expires);
  if (!valid) throw damaged();
  if (expires <= nowMs) {
    throw new UsageError(`invite code expired at ${new Date(expires).toISOString()}`, {
      hint: `ask a member for a new one: isaac invite ${name}`,
    });
  }
  const network = nacl.sign.keyPair.fromSeed(seed);
  return {
    brokers: (brokers as string[]).map(checkBrokerUrl),
    fingerprint: `sha256:${Buffer.from(fingerprint).toString('hex')}`,
    networkSecretKey: network.secretKey,
    networkPk: network.publicKey,
    name,
    expires,
  };
}
