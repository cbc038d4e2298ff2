import { decodeCbor, encodeCbor } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { isMachineName, machineNameProblem } from './names.ts';
import { signDetached, verifyDetached } from './sign.ts';

/**
 * Roster entries (DESIGN.md, "Identity, trust and the broker"): a machine's name and public keys,
 * signed by the network key, published retained on `isaac/roster/<m>`. Members trust a machine's
 * keys only from an entry that verifies against the network public key, so the broker can neither
 * insert a machine nor swap one's keys.
 */
export const ROSTER_VERSION = 1;
/** Encoded entries are tiny; anything bigger on a roster topic is refused unread. */
export const MAX_ROSTER_ENTRY_BYTES = 1024;

export interface RosterEntry {
  v: typeof ROSTER_VERSION;
  name: string;
  /** Ed25519 public key (32 bytes) that signs this machine's envelopes */
  signPk: Uint8Array;
  /** X25519 public key (32 bytes) envelopes to this machine are sealed to */
  boxPk: Uint8Array;
  /** ms since epoch when the machine was enrolled */
  added: number;
  /** ms since epoch when it was revoked; absent while it is a member */
  revoked?: number;
}

export type RosterEntryInput = Omit<RosterEntry, 'v'>;

function isKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === 32;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Signs an entry with the network secret key (64 bytes): CBOR([entryBytes, signature]). */
export function encodeRosterEntry(entry: RosterEntryInput, networkSecretKey: Uint8Array): Uint8Array {
  if (!isMachineName(entry.name))
    throw new ProtocolError(`cannot sign a roster entry for ${JSON.stringify(entry.name)}`);
  if (!isKey(entry.signPk) || !isKey(entry.boxPk))
    throw new ProtocolError('roster entry keys must be 32 bytes');
  if (!isTime(entry.added) || (entry.revoked !== undefined && !isTime(entry.revoked))) {
    throw new ProtocolError('roster entry times must be ms since epoch');
  }
  const fields: Record<string, unknown> = {
    v: ROSTER_VERSION,
    name: entry.name,
    signPk: entry.signPk,
    boxPk: entry.boxPk,
    added: entry.added,
  };
  if (entry.revoked !== undefined) fields.revoked = entry.revoked;
  const entryBytes = encodeCbor(fields);
  return encodeCbor([entryBytes, signDetached(entryBytes, networkSecretKey)]);
}

/**
 * Decodes and verifies a roster payload; throws ProtocolError unless it is a well-formed entry
 * signed by `networkPk` (and, when given, about `expectedName`, the machine of its topic).
 */
export function verifyRosterEntry(
  bytes: Uint8Array,
  networkPk: Uint8Array,
  expectedName?: string,
): RosterEntry {
  if (bytes.length > MAX_ROSTER_ENTRY_BYTES)
    throw new ProtocolError(`roster entry of ${bytes.length} bytes is too large`);
  const outer = decodeCbor(bytes);
  if (!Array.isArray(outer) || outer.length !== 2)
    throw new ProtocolError('roster entry is not [entry, signature]');
  const [entryBytes, sig] = outer as [unknown, unknown];
  if (!(entryBytes instanceof Uint8Array) || !(sig instanceof Uint8Array) || sig.length !== 64) {
    throw new ProtocolError('roster entry or signature has the wrong type');
  }
  if (!verifyDetached(entryBytes, sig, networkPk)) {
    throw new ProtocolError('roster entry is not signed by this network’s key', {
      hint: 'ignore it: it was not made by a member',
    });
  }
  const m = decodeCbor(entryBytes) as Record<string, unknown> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m))
    throw new ProtocolError('roster entry is not a map');
  if (m.v !== ROSTER_VERSION) throw new ProtocolError(`unsupported roster entry version ${String(m.v)}`);
  const { name, signPk, boxPk, added, revoked } = m;
  const nameProblem = machineNameProblem(name);
  if (nameProblem !== undefined)
    throw new ProtocolError(`roster entry for ${JSON.stringify(name)} refused: ${nameProblem}`);
  if (!isMachineName(name) || !isKey(signPk) || !isKey(boxPk) || !isTime(added)) {
    throw new ProtocolError('roster entry fields are invalid');
  }
  if (revoked !== undefined && !isTime(revoked))
    throw new ProtocolError('roster entry revoked time is invalid');
  if (expectedName !== undefined && name !== expectedName) {
    throw new ProtocolError(`roster entry for ${name} arrived on ${expectedName}'s roster topic`);
  }
  const entry: RosterEntry = {
    v: ROSTER_VERSION,
    name,
    signPk: new Uint8Array(signPk),
    boxPk: new Uint8Array(boxPk),
    added,
  };
  if (revoked !== undefined) entry.revoked = revoked;
  return entry;
}

/**
 * Whether `incoming` should replace `current` for the same name. A later enrollment wins; for the
 * same enrollment a revocation wins and is final, so replaying an old, unrevoked entry (which any
 * observer of the retained topic could have kept) never brings a revoked machine back.
 */
export function rosterSupersedes(current: RosterEntry | undefined, incoming: RosterEntry): boolean {
  if (current === undefined) return true;
  if (incoming.added !== current.added) return incoming.added > current.added;
  return incoming.revoked !== undefined && current.revoked === undefined;
}
