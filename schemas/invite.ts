import { createHash, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { decodeCbor, encodeCbor } from './codec.ts';
import { ProtocolError, UsageError } from './errors.ts';
import { normalizeFingerprint } from './fingerprint.ts';
import { machineNameProblem } from './names.ts';
import { verifyDetached } from './sign.ts';
import { decodeBodyMap, decodeSigned, encodeSigned } from './signed.ts';

/**
 * Invite codes (`isaac invite NAME` on an admin -> `isaac-node join CODE`): one copy-pasteable line
 * `isaac2-<base64url(CBOR ‖ checksum)>`. The checksum (first 4 bytes of SHA-256) turns a mistyped
 * or truncated code into a clear error instead of garbage.
 *
 * A code carries no network signing key (DESIGN.md, "Joining"). It carries a grant signed by the
 * network key (name, expiry, nonce, invite public key) and the invite key's secret half, with
 * which the new machine signs exactly one enrollment: the broker consumes the grant's nonce
 * atomically, and members accept one set of keys per nonce. Holding a code, used or not, grants
 * nothing beyond joining once, as that name, before it expires.
 */
export const INVITE_PREFIX = 'isaac2-';
/** Codes of the first design: they carried the network key and are refused. */
const OLD_INVITE_PREFIX = 'isaac1-';
export const INVITE_VERSION = 2;
export const DEFAULT_INVITE_TTL_MS = 24 * 60 * 60 * 1000;
const CHECKSUM_BYTES = 4;
/** Grants are small; anything bigger is refused unread. */
export const MAX_GRANT_BYTES = 512;

/** What the network key signs for one invite. */
export interface InviteGrant {
  v: 1;
  /** the only name the invite can enroll */
  name: string;
  /** ms since epoch after which the broker and members refuse it */
  expires: number;
  /** ms since epoch when an admin made it */
  issued: number;
  /** 16 random bytes, consumed by the broker on first use */
  nonce: Uint8Array;
  /** Ed25519 public key whose secret half is in the code: it signs the one enrollment */
  invitePk: Uint8Array;
}

export interface Invite {
  /** broker URLs, mqtts://host:port (mqtt:// only for loopback or insecure test setups) */
  brokers: string[];
  /** `sha256:<hex>` of the broker's TLS certificate */
  fingerprint: string;
  networkPk: Uint8Array;
  /** the grant as signed by the network key: CBOR([grantBytes, sig]) */
  grant: Uint8Array;
  /** 32-byte seed of the invite key */
  inviteSeed: Uint8Array;
}

export interface DecodedInvite extends Invite {
  grantFields: InviteGrant;
  /** the invite key pair (tweetnacl form) rebuilt from the seed */
  inviteKey: { publicKey: Uint8Array; secretKey: Uint8Array };
  name: string;
  expires: number;
}

const damaged = () =>
  new UsageError('invite code is damaged (checksum)', {
    hint: `copy it again, the whole line starting with ${INVITE_PREFIX}`,
  });

/**
 * Makes a fresh invite for `name`: a new invite key pair and its grant signed by the network key.
 * Only a holder of the network key (an admin) can make one.
 */
export function createInviteGrant(
  name: string,
  networkSecretKey: Uint8Array,
  options: { expires: number; issued: number },
): { grant: Uint8Array; inviteSeed: Uint8Array; fields: InviteGrant } {
  const problem = machineNameProblem(name);
  if (problem !== undefined) throw new UsageError(`invalid machine name ${JSON.stringify(name)}: ${problem}`);
  const inviteSeed = new Uint8Array(randomBytes(32));
  const fields: InviteGrant = {
    v: 1,
    name,
    expires: Math.floor(options.expires),
    issued: Math.floor(options.issued),
    nonce: new Uint8Array(randomBytes(16)),
    invitePk: nacl.sign.keyPair.fromSeed(inviteSeed).publicKey,
  };
  return { grant: signInviteGrant(fields, networkSecretKey), inviteSeed, fields };
}

/** CBOR([grantBytes, signature by the network key]). */
export function signInviteGrant(fields: InviteGrant, networkSecretKey: Uint8Array): Uint8Array {
  return encodeSigned(encodeCbor(fields), networkSecretKey);
}

/**
 * Decodes a signed grant and checks it was signed by `networkPk`; it does not check the expiry
 * (the broker checks it against its clock, members against the enrollment time).
 */
export function verifyInviteGrant(bytes: Uint8Array, networkPk: Uint8Array): InviteGrant {
  if (bytes.length > MAX_GRANT_BYTES)
    throw new ProtocolError(`invite grant of ${bytes.length} bytes is too large`);
  const { body, sig } = decodeSigned(bytes, 'invite grant');
  if (!verifyDetached(body, sig, networkPk))
    throw new ProtocolError('invite grant is not signed by this network’s key');
  const m = decodeBodyMap(body, 'invite grant');
  const { v, name, expires, issued, nonce, invitePk } = m;
  const problem = machineNameProblem(name);
  if (problem !== undefined) throw new ProtocolError(`invite grant for ${JSON.stringify(name)}: ${problem}`);
  const time = (t: unknown): t is number => typeof t === 'number' && Number.isSafeInteger(t) && t >= 0;
  if (
    v !== 1 ||
    !time(expires) ||
    !time(issued) ||
    !(nonce instanceof Uint8Array) ||
    nonce.length !== 16 ||
    !(invitePk instanceof Uint8Array) ||
    invitePk.length !== 32
  ) {
    throw new ProtocolError('invite grant fields are invalid');
  }
  return {
    v: 1,
    name: name as string,
    expires,
    issued,
    nonce: new Uint8Array(nonce),
    invitePk: new Uint8Array(invitePk),
  };
}

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
  if (invite.brokers.length === 0) throw new UsageError('an invite needs at least one broker URL');
  const fingerprint = Buffer.from(normalizeFingerprint(invite.fingerprint).slice('sha256:'.length), 'hex');
  const body = encodeCbor([
    INVITE_VERSION,
    invite.brokers.map(checkBrokerUrl),
    new Uint8Array(fingerprint),
    invite.networkPk,
    invite.grant,
    invite.inviteSeed,
  ]);
  const whole = new Uint8Array(body.length + CHECKSUM_BYTES);
  whole.set(body, 0);
  whole.set(checksum(body), body.length);
  return `${INVITE_PREFIX}${Buffer.from(whole).toString('base64url')}`;
}

/** Decodes a pasted code (whitespace and line breaks ignored); errors are one actionable line. */
export function decodeInvite(code: string, nowMs: number = Date.now()): DecodedInvite {
  const text = code.replace(/\s+/g, '');
  if (text.startsWith(OLD_INVITE_PREFIX)) {
    throw new UsageError('this invite code is from an older Isaac (it carried the network key)', {
      hint: 'ask an admin for a new one: isaac invite NAME',
    });
  }
  if (!text.startsWith(INVITE_PREFIX)) {
    throw new UsageError('this is not an Isaac invite code', {
      hint: `paste the code printed by \`isaac invite NAME\` on an admin machine; it starts with ${INVITE_PREFIX}`,
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
  const [, brokers, fingerprint, networkPk, grant, inviteSeed] = fields as unknown[];
  const valid =
    Array.isArray(brokers) &&
    brokers.length > 0 &&
    brokers.every((b) => typeof b === 'string') &&
    fingerprint instanceof Uint8Array &&
    fingerprint.length === 32 &&
    networkPk instanceof Uint8Array &&
    networkPk.length === 32 &&
    grant instanceof Uint8Array &&
    inviteSeed instanceof Uint8Array &&
    inviteSeed.length === 32;
  if (!valid) throw damaged();
  let grantFields: InviteGrant;
  try {
    grantFields = verifyInviteGrant(grant, networkPk);
  } catch (err) {
    throw new UsageError(`invite code is not valid: ${err instanceof Error ? err.message : String(err)}`, {
      hint: 'ask an admin for a new one: isaac invite NAME',
    });
  }
  const inviteKey = nacl.sign.keyPair.fromSeed(inviteSeed);
  if (!Buffer.from(inviteKey.publicKey).equals(Buffer.from(grantFields.invitePk))) throw damaged();
  if (grantFields.expires <= nowMs) {
    throw new UsageError(`invite code expired at ${new Date(grantFields.expires).toISOString()}`, {
      hint: `ask an admin for a new one: isaac invite ${grantFields.name}`,
    });
  }
  return {
    brokers: (brokers as string[]).map(checkBrokerUrl),
    fingerprint: `sha256:${Buffer.from(fingerprint).toString('hex')}`,
    networkPk: new Uint8Array(networkPk),
    grant: new Uint8Array(grant),
    inviteSeed: new Uint8Array(inviteSeed),
    grantFields,
    inviteKey,
    name: grantFields.name,
    expires: grantFields.expires,
  };
}
