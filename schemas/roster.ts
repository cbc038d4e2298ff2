import { encodeCbor } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { type InviteGrant, verifyInviteGrant } from './invite.ts';
import { isMachineName, machineNameProblem } from './names.ts';
import { verifyDetached } from './sign.ts';
import { decodeBodyMap, decodeSigned, encodeSigned } from './signed.ts';

/**
 * Roster entries (DESIGN.md, "Identity, trust and the broker"): a machine's name and public keys,
 * published retained on `isaac/roster/<m>`. An entry is trusted when it is signed by the network
 * key (admins' entries, revocations, every entry re-signed at a rotation), or when it is signed by
 * an invite key and carries that invite's grant, signed by the network key, for the same name
 * (a machine that joined with an invite: it never holds the network key). Only the first form may
 * say `admin` or `revoked`. So neither the broker nor a member can insert or swap a machine.
 */
export const ROSTER_VERSION = 1;
/** Encoded entries are small; anything bigger on a roster topic is refused unread. */
export const MAX_ROSTER_ENTRY_BYTES = 1024;
/** An enrollment signed up to this long after its invite's expiry is still the one enrollment. */
const ENROLL_SKEW_MS = 5 * 60 * 1000;

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
  /** the admin machine that revoked it (with `revoked`; absent in entries made before it existed) */
  revokedBy?: string;
  /** true when the machine holds the network key (may invite, revoke, rotate) */
  admin?: true;
  /** set when the entry was made with an invite: the grant it proves */
  invite?: InviteGrant;
}

export type RosterEntryInput = Omit<RosterEntry, 'v' | 'invite'>;

function isKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === 32;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function entryBody(entry: RosterEntryInput): Uint8Array {
  const problem = machineNameProblem(entry.name);
  if (problem !== undefined)
    throw new ProtocolError(`cannot sign a roster entry for ${JSON.stringify(entry.name)}: ${problem}`);
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
  if (entry.revokedBy !== undefined) {
    if (entry.revoked === undefined || machineNameProblem(entry.revokedBy) !== undefined)
      throw new ProtocolError('roster entry revokedBy needs a revocation and a machine name');
    fields.by = entry.revokedBy;
  }
  if (entry.admin === true) fields.admin = true;
  return encodeCbor(fields);
}

/** Signs an entry with the network secret key (64 bytes): CBOR([entryBytes, signature]). */
export function encodeRosterEntry(entry: RosterEntryInput, networkSecretKey: Uint8Array): Uint8Array {
  return encodeSigned(entryBody(entry), networkSecretKey);
}

/**
 * A joining machine's own entry: signed by the invite key, carrying the grant
 * (CBOR([entryBytes, signature, grant])). It can be neither admin nor revoked.
 */
export function encodeInvitedRosterEntry(
  entry: Omit<RosterEntryInput, 'admin' | 'revoked'>,
  inviteSecretKey: Uint8Array,
  grant: Uint8Array,
): Uint8Array {
  return encodeSigned(entryBody(entry), inviteSecretKey, grant);
}

/**
 * Decodes and verifies a roster payload; throws ProtocolError unless it is a well-formed entry
 * trusted under `networkPk` (and, when given, about `expectedName`, the machine of its topic).
 */
export function verifyRosterEntry(
  bytes: Uint8Array,
  networkPk: Uint8Array,
  expectedName?: string,
): RosterEntry {
  if (bytes.length > MAX_ROSTER_ENTRY_BYTES)
    throw new ProtocolError(`roster entry of ${bytes.length} bytes is too large`);
  const { body, sig, extra } = decodeSigned(bytes, 'roster entry', 1);
  const grantBytes = extra[0];
  let invite: InviteGrant | undefined;
  if (grantBytes === undefined) {
    if (!verifyDetached(body, sig, networkPk)) {
      throw new ProtocolError('roster entry is not signed by this network’s key', {
        hint: 'ignore it: it was not made by an admin',
      });
    }
  } else {
    invite = verifyInviteGrant(grantBytes, networkPk);
    if (!verifyDetached(body, sig, invite.invitePk))
      throw new ProtocolError('roster entry is not signed by the key of the invite it carries');
  }
  const m = decodeBodyMap(body, 'roster entry');
  if (m.v !== ROSTER_VERSION) throw new ProtocolError(`unsupported roster entry version ${String(m.v)}`);
  const { name, signPk, boxPk, added, revoked, admin, by } = m;
  const nameProblem = machineNameProblem(name);
  if (nameProblem !== undefined)
    throw new ProtocolError(`roster entry for ${JSON.stringify(name)} refused: ${nameProblem}`);
  if (!isMachineName(name) || !isKey(signPk) || !isKey(boxPk) || !isTime(added)) {
    throw new ProtocolError('roster entry fields are invalid');
  }
  if (revoked !== undefined && !isTime(revoked))
    throw new ProtocolError('roster entry revoked time is invalid');
  if (admin !== undefined && admin !== true) throw new ProtocolError('roster entry admin flag is invalid');
  if (by !== undefined && (revoked === undefined || !isMachineName(by)))
    throw new ProtocolError('roster entry revokedBy is invalid');
  if (expectedName !== undefined && name !== expectedName) {
    throw new ProtocolError(`roster entry for ${name} arrived on ${expectedName}'s roster topic`);
  }
  if (invite) {
    if (invite.name !== name)
      throw new ProtocolError(`roster entry for ${name} carries an invite for ${invite.name}`);
    if (admin === true || revoked !== undefined)
      throw new ProtocolError(`roster entry for ${name} made with an invite cannot say admin or revoked`);
    if (added > invite.expires + ENROLL_SKEW_MS)
      throw new ProtocolError(`roster entry for ${name} was made after its invite expired`);
  }
  const entry: RosterEntry = {
    v: ROSTER_VERSION,
    name,
    signPk: new Uint8Array(signPk),
    boxPk: new Uint8Array(boxPk),
    added,
  };
  if (revoked !== undefined) entry.revoked = revoked;
  if (typeof by === 'string') entry.revokedBy = by;
  if (admin === true) entry.admin = true;
  if (invite) entry.invite = invite;
  return entry;
}

const sameKeys = (a: RosterEntry, b: RosterEntry): boolean =>
  Buffer.from(a.signPk).equals(Buffer.from(b.signPk)) && Buffer.from(a.boxPk).equals(Buffer.from(b.boxPk));

/**
 * Whether `incoming` should replace `current` for the same name.
 * - Same enrollment (same `added`): a revocation wins and is final, so replaying an old, unrevoked
 *   entry never brings a revoked machine back; a promotion to admin (same keys) wins too.
 * - A new enrollment replaces a revoked one if later. It replaces a live one only when it is
 *   signed by the network key itself, or made with an invite issued after that enrollment (an
 *   admin invites only a free or revoked name): a second use of an old invite never takes a name.
 */
export function rosterSupersedes(current: RosterEntry | undefined, incoming: RosterEntry): boolean {
  if (current === undefined) return true;
  if (incoming.added === current.added) {
    if (current.revoked !== undefined) return false;
    if (incoming.revoked !== undefined) return true;
    return incoming.admin === true && current.admin !== true && sameKeys(current, incoming);
  }
  if (incoming.added < current.added) return false;
  if (current.revoked !== undefined) return true;
  return incoming.invite === undefined || incoming.invite.issued > current.added;
}
