import { createAdminRequest } from '../../../schemas/admin.ts';
import { UsageError } from '../../../schemas/errors.ts';
import { createInviteGrant, DEFAULT_INVITE_TTL_MS, encodeInvite } from '../../../schemas/invite.ts';
import { assertMachineName } from '../../../schemas/names.ts';
import { encodeRosterEntry } from '../../../schemas/roster.ts';
import { topics } from '../../../schemas/topics.ts';
import { loadIdentity, type SignKeyPair } from '../../core/crypto/keys.ts';
import { requireAdminKey } from '../../core/identity/admins.ts';
import { sendAdminRequest } from '../../core/identity/broker-ops.ts';
import { requireNetworkSettings } from '../../core/identity/settings.ts';
import { openStore } from '../../core/store/store.ts';

/** `isaac invite NAME` and `isaac revoke NAME`: what only admins (holders of the network key) can do. */

function networkKeyOf(home: string, what: string): SignKeyPair {
  return requireAdminKey(home, loadIdentity(home).network, what);
}

export interface InviteOptions {
  ttlMs?: number;
  nowMs?: number;
}

/** Prints nothing and changes nothing: returns the code for `newName`. */
export function createInvite(home: string, newName: string, options: InviteOptions = {}): string {
  const name = assertMachineName(newName);
  const network = networkKeyOf(home, 'invite');
  const store = openStore(home);
  try {
    const settings = requireNetworkSettings(store);
    if (name === settings.name)
      throw new UsageError(`${name} is this machine`, { hint: 'invite the new machine by its own name' });
    const existing = store.machines.get(name);
    if (existing && existing.sign_pk !== null && existing.revoked === null) {
      throw new UsageError(`${name} is already a member`, {
        hint: `pick another name, or \`isaac revoke ${name}\` first if that machine is being replaced`,
      });
    }
    const nowMs = options.nowMs ?? Date.now();
    const { grant, inviteSeed } = createInviteGrant(name, network.secretKey, {
      expires: nowMs + (options.ttlMs ?? DEFAULT_INVITE_TTL_MS),
      issued: nowMs,
    });
    return encodeInvite({
      brokers: settings.brokers,
      fingerprint: settings.fingerprint,
      networkPk: network.publicKey,
      grant,
      inviteSeed,
    });
  } finally {
    store.close();
  }
}

export interface RevokeResult {
  name: string;
  /** the signed revoked roster entry and where it belongs (retained) */
  topic: string;
  rosterEntry: Uint8Array;
}

/**
 * Removes `name`'s broker credentials (its sessions end at once), has the broker publish the
 * signed revoked roster entry retained, and records the revocation in this machine's roster.
 */
export async function revokeMachine(
  home: string,
  target: string,
  options: { nowMs?: number } = {},
): Promise<RevokeResult> {
  const name = assertMachineName(target);
  const network = networkKeyOf(home, 'revoke');
  const store = openStore(home);
  try {
    const settings = requireNetworkSettings(store);
    if (settings.brokerLogin === 'static-password') {
      throw new UsageError(`this network's broker checks static passwords, so it cannot revoke ${name}`, {
        hint: `on the broker host run deploy/mosquitto-remove-machine.sh ${name} (Mosquitto), or delete its account and ACL there; nothing was changed`,
      });
    }
    if (name === settings.name) {
      throw new UsageError('refusing to revoke this machine itself', {
        hint: 'run `isaac revoke` on another member',
      });
    }
    const nowMs = options.nowMs ?? Date.now();
    // unknown keys (never seen its entry): zero keys with a fresh `added` still supersede any entry
    const known = store.machines.get(name);
    const zero = new Uint8Array(32);
    const signPk = known?.sign_pk ? new Uint8Array(known.sign_pk) : zero;
    const boxPk = known?.box_pk ? new Uint8Array(known.box_pk) : zero;
    const added = known?.added ?? nowMs;
    const revokedBy = settings.name;
    const rosterEntry = encodeRosterEntry(
      { name, signPk, boxPk, added, revoked: nowMs, revokedBy },
      network.secretKey,
    );
    // the broker verifies the signed revoked entry and publishes it retained on isaac/roster/<name>
    await sendAdminRequest(
      {
        brokers: settings.brokers,
        fingerprint: settings.fingerprint,
        certPem: settings.certPem,
        insecure: settings.insecure,
      },
      createAdminRequest({ op: 'revoke', name, rosterEntry }, network.secretKey, nowMs),
      `revocation of ${name}`,
      `the broker does not know ${name}, or this machine's network key is not the one the broker is bound to`,
    );
    store.machines.applyRoster({ name, signPk, boxPk, added, revoked: nowMs, revokedBy });
    return { name, topic: topics.roster(name), rosterEntry };
  } finally {
    store.close();
  }
}
