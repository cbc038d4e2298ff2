import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { encodeCbor } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { MAX_GRANT_BYTES } from './invite.ts';
import { isMachineName, machineNameProblem } from './names.ts';
import { decodeBodyMap, decodeSigned } from './signed.ts';

/**
 * Broker administration requests, signed by the network key (DESIGN.md, "Identity, trust and the
 * broker"). They travel inside an MQTT CONNECT so that a machine that is not enrolled yet can make
 * one: username `$admin`, client id `$admin-<nonce hex>`, password = `encodeAdminRequest(...)`.
 * The broker answers CONNACK 0 when it applied the request (then closes the connection) and
 * "not authorized" otherwise, logging the reason.
 *
 * - bind:   the first machine binds the network public key, proving it holds the one-time setup token
 * - enroll: add a machine with its HMAC login secret. Signed by the invite key, not the network
 *           key, and carrying the invite's grant (schemas/invite.ts): the broker checks the grant
 *           against the bound key, its name and expiry, and consumes its nonce; a name that is
 *           enrolled and not revoked is never enrolled again
 * - revoke: remove a machine's credentials and disconnect it at once
 * - rotate: replace the bound network key (signed by the bound key, plus `newKeySig` proving
 *           possession of the new one); the old key stops being accepted at once
 */
export const ADMIN_USERNAME = '$admin';
export const ADMIN_CLIENT_PREFIX = '$admin-';
/** A signed request older or newer than this is refused (replay window; nonces are remembered). */
export const ADMIN_MAX_SKEW_MS = 5 * 60 * 1000;
/**
 * The CONNACK return code of an admin request the broker refuses (MQTT 3.1.1: "not authorized"),
 * except an enrollment whose invite is signed by a network key a rotation retired: that one gets
 * 4 ("bad user name or password": the credentials were good once), so the joining machine can say
 * the invite predates the rotation instead of guessing among every reason an invite fails.
 */
export const CONNACK_REFUSED = 5;
export const CONNACK_INVITE_BEFORE_ROTATION = 4;

export type AdminOp = 'bind' | 'enroll' | 'revoke' | 'rotate';

export interface AdminRequest {
  v: 1;
  op: AdminOp;
  /** Machine the request is about (enroll/revoke); for bind, the first machine's name. */
  name: string;
  /** enroll/bind: the machine's HMAC login secret (32 bytes). */
  secret?: Uint8Array;
  /** bind: the network's Ed25519 public key being bound; rotate: the new network key. */
  networkPk?: Uint8Array;
  /** bind: the broker's one-time setup token. */
  setupToken?: string;
  /**
   * revoke: the machine's revoked roster entry, signed by the network key. The broker publishes
   * it retained on `isaac/roster/<name>` (members may only publish their own entry, and the
   * revoked machine can no longer log in to publish anything).
   */
  rosterEntry?: Uint8Array;
  /** rotate: Ed25519 signature by the NEW key over `rotationProofMessage(oldPk, newPk, nonce)`. */
  newKeySig?: Uint8Array;
  /** enroll: the invite grant, signed by the network key; the request is signed by its invite key. */
  grant?: Uint8Array;
  ts: number;
  nonce: Uint8Array;
}

export function createAdminRequest(
  fields: Omit<AdminRequest, 'v' | 'ts' | 'nonce'>,
  networkSecretKey: Uint8Array,
  nowMs: number = Date.now(),
): Uint8Array {
  const request: AdminRequest = { v: 1, ...fields, ts: nowMs, nonce: new Uint8Array(randomBytes(16)) };
  const body = encodeCbor(request);
  const sig = nacl.sign.detached(body, networkSecretKey);
  return encodeCbor([body, sig]);
}

/** Decodes and structurally validates a request; the signature is checked by `verifyAdminRequest`. */
export function decodeAdminRequest(bytes: Uint8Array): {
  request: AdminRequest;
  body: Uint8Array;
  sig: Uint8Array;
} {
  const { body, sig } = decodeSigned(bytes, 'admin request');
  const r = decodeBodyMap(body, 'admin request');
  const nameProblem = machineNameProblem(r.name);
  if (nameProblem !== undefined)
    throw new ProtocolError(`admin request for machine ${JSON.stringify(r.name)}: ${nameProblem}`);
  const ok =
    r.v === 1 &&
    (r.op === 'bind' || r.op === 'enroll' || r.op === 'revoke' || r.op === 'rotate') &&
    isMachineName(r.name) &&
    typeof r.ts === 'number' &&
    r.nonce instanceof Uint8Array &&
    r.nonce.length === 16 &&
    (r.secret === undefined || (r.secret instanceof Uint8Array && r.secret.length === 32)) &&
    (r.networkPk === undefined || (r.networkPk instanceof Uint8Array && r.networkPk.length === 32)) &&
    (r.setupToken === undefined || typeof r.setupToken === 'string') &&
    (r.rosterEntry === undefined || (r.rosterEntry instanceof Uint8Array && r.rosterEntry.length <= 4096)) &&
    (r.newKeySig === undefined || (r.newKeySig instanceof Uint8Array && r.newKeySig.length === 64)) &&
    (r.grant === undefined || (r.grant instanceof Uint8Array && r.grant.length <= MAX_GRANT_BYTES));
  if (!ok) throw new ProtocolError('admin request fields are invalid');
  if ((r.op === 'enroll' || r.op === 'bind') && r.secret === undefined) {
    throw new ProtocolError(`admin ${String(r.op)} request lacks the machine secret`);
  }
  if (r.op === 'enroll' && r.grant === undefined) {
    throw new ProtocolError('admin enroll request lacks an invite grant', {
      hint: 'a machine joins only with an invite made by an admin: isaac invite NAME',
    });
  }
  if (r.op === 'bind' && (r.networkPk === undefined || r.setupToken === undefined)) {
    throw new ProtocolError('admin bind request lacks the network key or setup token');
  }
  if (r.op === 'rotate' && (r.networkPk === undefined || r.newKeySig === undefined)) {
    throw new ProtocolError('admin rotate request lacks the new network key or its proof');
  }
  return { request: r as unknown as AdminRequest, body, sig };
}

/** The enroll request of `isaac-node join`: signed by the invite key, carrying the grant. */
export function createEnrollRequest(
  name: string,
  secret: Uint8Array,
  grant: Uint8Array,
  inviteSecretKey: Uint8Array,
  nowMs: number = Date.now(),
): Uint8Array {
  return createAdminRequest({ op: 'enroll', name, secret, grant }, inviteSecretKey, nowMs);
}

export function verifyAdminSignature(body: Uint8Array, sig: Uint8Array, networkPk: Uint8Array): boolean {
  return nacl.sign.detached.verify(body, sig, networkPk);
}

const ROTATION_PROOF_TAG = new TextEncoder().encode('isaac-rotate-v1');

/**
 * What the new key signs in a rotate request: a fixed tag, the key being replaced, the new key and
 * the request's nonce. Plain concatenation of fixed-length parts, so no re-encoding is involved
 * and the proof cannot be lifted into another request or another network.
 */
export function rotationProofMessage(oldPk: Uint8Array, newPk: Uint8Array, nonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(ROTATION_PROOF_TAG.length + oldPk.length + newPk.length + nonce.length);
  out.set(ROTATION_PROOF_TAG, 0);
  out.set(oldPk, ROTATION_PROOF_TAG.length);
  out.set(newPk, ROTATION_PROOF_TAG.length + oldPk.length);
  out.set(nonce, ROTATION_PROOF_TAG.length + oldPk.length + newPk.length);
  return out;
}

/** A rotate request: signed by the current key `current`, with the new key's proof of possession. */
export function createRotateRequest(
  name: string,
  current: { publicKey: Uint8Array; secretKey: Uint8Array },
  next: { publicKey: Uint8Array; secretKey: Uint8Array },
  nowMs: number = Date.now(),
): Uint8Array {
  const nonce = new Uint8Array(randomBytes(16));
  const newKeySig = nacl.sign.detached(
    rotationProofMessage(current.publicKey, next.publicKey, nonce),
    next.secretKey,
  );
  const request: AdminRequest = {
    v: 1,
    op: 'rotate',
    name,
    networkPk: next.publicKey,
    newKeySig,
    ts: nowMs,
    nonce,
  };
  const body = encodeCbor(request);
  return encodeCbor([body, nacl.sign.detached(body, current.secretKey)]);
}
