import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { decodeCbor, encodeCbor } from './codec.ts';
import { ProtocolError } from './errors.ts';
import { isMachineName } from './names.ts';

/**
 * Broker administration requests, signed by the network key (DESIGN.md, "Identity, trust and the
 * broker"). They travel inside an MQTT CONNECT so that a machine that is not enrolled yet can make
 * one: username `$admin`, client id `$admin-<nonce hex>`, password = `encodeAdminRequest(...)`.
 * The broker answers CONNACK 0 when it applied the request (then closes the connection) and
 * "not authorized" otherwise, logging the reason.
 *
 * - bind:   the first machine binds the network public key, proving it holds the one-time setup token
 * - enroll: add (or re-key) a machine with its HMAC login secret
 * - revoke: remove a machine's credentials and disconnect it at once
 */
export const ADMIN_USERNAME = '$admin';
export const ADMIN_CLIENT_PREFIX = '$admin-';
/** A signed request older or newer than this is refused (replay window; nonces are remembered). */
export const ADMIN_MAX_SKEW_MS = 5 * 60 * 1000;

export type AdminOp = 'bind' | 'enroll' | 'revoke';

export interface AdminRequest {
  v: 1;
  op: AdminOp;
  /** Machine the request is about (enroll/revoke); for bind, the first machine's name. */
  name: string;
  /** enroll/bind: the machine's HMAC login secret (32 bytes). */
  secret?: Uint8Array;
  /** bind: the network's Ed25519 public key being bound. */
  networkPk?: Uint8Array;
  /** bind: the broker's one-time setup token. */
  setupToken?: string;
  /**
   * revoke: the machine's revoked roster entry, signed by the network key. The broker publishes
   * it retained on `isaac/roster/<name>` (members may only publish their own entry, and the
   * revoked machine can no longer log in to publish anything).
   */
  rosterEntry?: Uint8Array;
  ts: number;
  nonce: Uint8Array;
}

export interface SignedAdminRequest {
  request: AdminRequest;
  /** Ed25519 signature by the network key over `encodeCbor(request)`. */
  sig: Uint8Array;
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
  const outer = decodeCbor(bytes);
  if (!Array.isArray(outer) || outer.length !== 2)
    throw new ProtocolError('admin request is not [body, sig]');
  const [body, sig] = outer as [unknown, unknown];
  if (!(body instanceof Uint8Array) || !(sig instanceof Uint8Array) || sig.length !== 64) {
    throw new ProtocolError('admin request body or signature has the wrong type');
  }
  const r = decodeCbor(body) as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null) throw new ProtocolError('admin request body is not a map');
  const ok =
    r.v === 1 &&
    (r.op === 'bind' || r.op === 'enroll' || r.op === 'revoke') &&
    isMachineName(r.name) &&
    typeof r.ts === 'number' &&
    r.nonce instanceof Uint8Array &&
    r.nonce.length === 16 &&
    (r.secret === undefined || (r.secret instanceof Uint8Array && r.secret.length === 32)) &&
    (r.networkPk === undefined || (r.networkPk instanceof Uint8Array && r.networkPk.length === 32)) &&
    (r.setupToken === undefined || typeof r.setupToken === 'string') &&
    (r.rosterEntry === undefined || (r.rosterEntry instanceof Uint8Array && r.rosterEntry.length <= 4096));
  if (!ok) throw new ProtocolError('admin request fields are invalid');
  if ((r.op === 'enroll' || r.op === 'bind') && r.secret === undefined) {
    throw new ProtocolError(`admin ${String(r.op)} request lacks the machine secret`);
  }
  if (r.op === 'bind' && (r.networkPk === undefined || r.setupToken === undefined)) {
    throw new ProtocolError('admin bind request lacks the network key or setup token');
  }
  return { request: r as unknown as AdminRequest, body, sig };
}

export function verifyAdminSignature(body: Uint8Array, sig: Uint8Array, networkPk: Uint8Array): boolean {
  return nacl.sign.detached.verify(body, sig, networkPk);
}
