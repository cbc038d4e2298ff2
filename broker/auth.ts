import {
  ADMIN_CLIENT_PREFIX,
  ADMIN_MAX_SKEW_MS,
  type AdminRequest,
  decodeAdminRequest,
  rotationProofMessage,
  verifyAdminSignature,
} from '../schemas/admin.ts';
import { type InviteGrant, verifyInviteGrant } from '../schemas/invite.ts';
import { isMachineName, MACHINE_NAME_PATTERN } from '../schemas/names.ts';
import { verifyRosterEntry } from '../schemas/roster.ts';
import { verifyToken } from '../schemas/token.ts';
import type { BrokerStateStore } from './state-store.ts';

/** Why a login or an admin request was refused; each is a counter and a log field. */
export type LoginRefusal =
  | 'no-credentials'
  | 'unknown-machine'
  | 'revoked'
  | 'client-id-mismatch'
  | 'malformed'
  | 'bad-mac'
  | 'expired'
  | 'far-future'
  | 'replayed-nonce'
  | 'observer-bad-password'
  | 'observer-client-id';

export type Role = 'machine' | 'observer';

export type AdminRefusal =
  | 'admin-client-id'
  | 'admin-malformed'
  | 'admin-skew'
  | 'admin-not-bound'
  | 'admin-already-bound'
  | 'admin-bad-setup-token'
  | 'admin-bad-signature'
  | 'admin-replayed-nonce'
  | 'admin-unknown-machine'
  | 'admin-bad-roster-entry'
  | 'admin-bad-new-key-proof'
  | 'admin-same-key'
  | 'admin-bad-invite'
  | 'admin-invite-expired'
  | 'admin-invite-used'
  | 'admin-invite-old-key'
  | 'admin-name-taken';

export type Verdict<R> = { ok: true } | { ok: false; reason: R };
export type LoginVerdict = { ok: true; role: Role } | { ok: false; reason: LoginRefusal };

/**
 * Checks a login. Machines: username = client id = an enrolled, unrevoked machine with a fresh
 * token. Observers (read-only, e.g. Home Assistant): their static password, and a client id that
 * is no machine's, so they can never take over a machine's session.
 */
export async function checkLogin(
  state: BrokerStateStore,
  clientId: string,
  username: string | undefined,
  password: Buffer | undefined,
  nowMs = Date.now(),
): Promise<LoginVerdict> {
  if (!username || !password || password.length === 0) return { ok: false, reason: 'no-credentials' };
  // Observer logins (Home Assistant's usual "homeassistant") share the syntax but may use the
  // words reserved for topic levels, which no machine can be named.
  if (!MACHINE_NAME_PATTERN.test(username)) return { ok: false, reason: 'unknown-machine' };
  const machine = isMachineName(username) ? await state.machine(username) : undefined;
  if (!machine) {
    const observer = await state.observerPasswordMatches(username, password.toString('utf8'));
    if (observer === undefined) return { ok: false, reason: 'unknown-machine' };
    if (!observer) return { ok: false, reason: 'observer-bad-password' };
    if (clientId.startsWith('$') || (await state.machine(clientId)))
      return { ok: false, reason: 'observer-client-id' };
    return { ok: true, role: 'observer' };
  }
  if (clientId !== username) return { ok: false, reason: 'client-id-mismatch' };
  if (machine.revokedAt !== null) return { ok: false, reason: 'revoked' };
  const check = verifyToken(password.toString('utf8'), username, machine.secret, nowMs);
  if (!check.ok) return check;
  if (!(await state.rememberNonce(`t:${username}:${check.nonce}`, check.expiry * 1000))) {
    return { ok: false, reason: 'replayed-nonce' };
  }
  return { ok: true, role: 'machine' };
}

export type AdminOutcome =
  | { ok: true; request: AdminRequest }
  | { ok: false; reason: AdminRefusal; detail?: string; request?: AdminRequest };

/**
 * Verifies and applies one signed admin request (schemas/admin.ts). Nothing changes unless every
 * check passes; the caller disconnects a revoked machine and drops its queue.
 */
export async function applyAdminRequest(
  state: BrokerStateStore,
  clientId: string,
  password: Buffer | undefined,
  nowMs = Date.now(),
): Promise<AdminOutcome> {
  if (!/^\$admin-[0-9a-f]{1,64}$/.test(clientId) || !clientId.startsWith(ADMIN_CLIENT_PREFIX)) {
    return { ok: false, reason: 'admin-client-id' };
  }
  if (!password) return { ok: false, reason: 'admin-malformed', detail: 'no request in the password' };
  let decoded: ReturnType<typeof decodeAdminRequest>;
  try {
    decoded = decodeAdminRequest(password);
  } catch (err) {
    return { ok: false, reason: 'admin-malformed', detail: err instanceof Error ? err.message : String(err) };
  }
  const { request, body, sig } = decoded;
  const fail = (reason: AdminRefusal, detail?: string): AdminOutcome => ({
    ok: false,
    reason,
    detail,
    request,
  });
  if (Math.abs(nowMs - request.ts) > ADMIN_MAX_SKEW_MS) return fail('admin-skew');

  const bound = await state.networkPk();
  if (request.op === 'bind') {
    if (bound) return fail('admin-already-bound');
    const networkPk = request.networkPk as Uint8Array;
    if (!(await state.setupTokenMatches(request.setupToken as string))) return fail('admin-bad-setup-token');
    // the binder proves it holds the network key it binds
    if (!verifyAdminSignature(body, sig, networkPk)) return fail('admin-bad-signature');
    if (!(await rememberAdminNonce(state, request))) return fail('admin-replayed-nonce');
    const setupToken = request.setupToken as string;
    // another broker of the cluster may have bound meanwhile: bind is a compare-and-set
    if (!(await state.bind(networkPk, setupToken, request.name, request.secret as Uint8Array, nowMs)))
      return fail('admin-already-bound');
    return { ok: true, request };
  }
  if (!bound) return fail('admin-not-bound');
  if (request.op === 'enroll') {
    const refused = await enrollWithInvite(state, request, body, sig, bound, nowMs);
    return refused ? fail(refused.reason, refused.detail) : { ok: true, request };
  }
  if (!verifyAdminSignature(body, sig, bound)) return fail('admin-bad-signature');
  if (!(await rememberAdminNonce(state, request))) return fail('admin-replayed-nonce');
  if (request.op === 'rotate') {
    const next = request.networkPk as Uint8Array;
    if (Buffer.from(next).equals(Buffer.from(bound))) return fail('admin-same-key');
    // the new key must be held by the requester, or a member could bind a key nobody holds
    if (!verifyAdminSignature(rotationProofMessage(bound, next, request.nonce), request.newKeySig!, next)) {
      return fail('admin-bad-new-key-proof');
    }
    if (!(await state.rotateNetworkKey(bound, next, nowMs)))
      return fail('admin-bad-signature', 'the bound key changed meanwhile');
    return { ok: true, request };
  }
  if (!(await state.machine(request.name))) return fail('admin-unknown-machine');
  if (request.rosterEntry !== undefined) {
    try {
      const entry = verifyRosterEntry(request.rosterEntry, bound, request.name);
      if (entry.revoked === undefined) return fail('admin-bad-roster-entry', 'the entry is not a revocation');
    } catch (err) {
      return fail('admin-bad-roster-entry', err instanceof Error ? err.message : String(err));
    }
  }
  await state.revoke(request.name, nowMs);
  return { ok: true, request };
}

/**
 * An enrollment proves one invite (schemas/invite.ts): its grant is signed by the bound network
 * key, names this machine and has not expired by this broker's clock; the request is signed by
 * the grant's invite key. The grant's nonce is consumed atomically (SQLite insert or Redis SET NX,
 * shared by the cluster), so a code joins once; a live name is never enrolled again.
 */
async function enrollWithInvite(
  state: BrokerStateStore,
  request: AdminRequest,
  body: Uint8Array,
  sig: Uint8Array,
  bound: Uint8Array,
  nowMs: number,
): Promise<{ reason: AdminRefusal; detail?: string } | undefined> {
  let grant: InviteGrant;
  try {
    grant = verifyInviteGrant(request.grant as Uint8Array, bound);
  } catch (err) {
    const retired = await signedByRetiredKey(state, request.grant as Uint8Array);
    if (retired !== undefined)
      return {
        reason: 'admin-invite-old-key',
        detail: `the invite was signed by the network key rotated away at ${new Date(retired).toISOString()}`,
      };
    return { reason: 'admin-bad-invite', detail: err instanceof Error ? err.message : String(err) };
  }
  if (grant.name !== request.name)
    return { reason: 'admin-bad-invite', detail: `the invite is for ${grant.name}, not ${request.name}` };
  if (!verifyAdminSignature(body, sig, grant.invitePk)) return { reason: 'admin-bad-signature' };
  if (grant.expires <= nowMs)
    return { reason: 'admin-invite-expired', detail: `expired at ${new Date(grant.expires).toISOString()}` };
  if (!(await rememberAdminNonce(state, request))) return { reason: 'admin-replayed-nonce' };
  const current = await state.machine(request.name);
  if (current && current.revokedAt === null)
    return { reason: 'admin-name-taken', detail: `${request.name} is enrolled; revoke it first` };
  const inviteNonce = `i:${Buffer.from(grant.nonce).toString('hex')}`;
  if (!(await state.rememberNonce(inviteNonce, grant.expires + ADMIN_MAX_SKEW_MS)))
    return { reason: 'admin-invite-used', detail: `the invite for ${grant.name} was used already` };
  if (!(await state.enrollNew(request.name, request.secret as Uint8Array, nowMs)))
    return { reason: 'admin-name-taken', detail: `${request.name} is enrolled; revoke it first` };
  return undefined;
}

/** When the retired network key that signed `grant` was rotated away, if one did (to explain a refusal only). */
async function signedByRetiredKey(state: BrokerStateStore, grant: Uint8Array): Promise<number | undefined> {
  for (const key of await state.retiredNetworkKeys()) {
    try {
      verifyInviteGrant(grant, key.pk);
      return key.retiredAt;
    } catch {
      // not this one
    }
  }
  return undefined;
}

function rememberAdminNonce(state: BrokerStateStore, request: AdminRequest): Promise<boolean> {
  return state.rememberNonce(
    `a:${Buffer.from(request.nonce).toString('hex')}`,
    request.ts + ADMIN_MAX_SKEW_MS,
  );
}
