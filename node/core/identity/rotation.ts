import { createAdminRequest, createRotateRequest } from '../../../schemas/admin.ts';
import { MAX_ENVELOPE_TTL_MS, sealEnvelope } from '../../../schemas/envelope.ts';
import { ProtocolError, UsageError } from '../../../schemas/errors.ts';
import { MAX_NETWORK_KEY_REVOCATIONS, type NetworkKeyMessage } from '../../../schemas/messages.ts';
import { assertMachineName } from '../../../schemas/names.ts';
import { encodeRosterEntry, type RosterEntry } from '../../../schemas/roster.ts';
import {
  commitStagedNetworkKey,
  discardStagedNetworkKey,
  generateNetworkKey,
  loadIdentity,
  type MachineKeys,
  type SignKeyPair,
  stageNetworkKey,
} from '../crypto/keys.ts';
import type { MachineRow } from '../store/machines.ts';
import { type NewOutboxRow, sealedRow } from '../store/outbox.ts';
import { openStore, type Store } from '../store/store.ts';
import { requireAdminKey } from './admins.ts';
import { sendAdminRequest } from './broker-ops.ts';
import { resignOwnEntry } from './handover.ts';
import { type NetworkSettings, requireNetworkSettings, saveRotatedNetworkKey } from './settings.ts';
import { rowAsEntry, same } from './trust.ts';

/**
 * Rotating the network key after a revocation (DESIGN.md, "Identity, trust and the broker"): the
 * revoked machine may have held the old key, so the broker is moved to a new one (admin op
 * `rotate`); through the durable outbox every remaining admin gets the new secret in a sealed
 * `network-key` envelope, and every other member its own roster entry re-signed with the new key.
 * Admins only: the first machine and those promoted with `isaac promote NAME` (promoteMachine). Members keep the old public keys only to recognise entries they already trust;
 * an entry signed by a retired key can never add or re-key a machine (see verifyRosterEntryTrusted).
 */

export interface RotationResult {
  newPk: Uint8Array;
  /** members the new key was queued for (delivered by isaac-node, also when they are offline now) */
  notified: string[];
  /** revocations re-signed with the new key and re-published by the broker */
  republishedRevocations: string[];
}

function targetOf(settings: NetworkSettings) {
  return {
    brokers: settings.brokers,
    fingerprint: settings.fingerprint,
    certPem: settings.certPem,
    insecure: settings.insecure,
  };
}

/**
 * Generates a new network key, has the broker bind it (signed by the current key), installs it,
 * re-signs this machine's roster entry (isaac-node publishes it on its next connect) and queues the
 * new key for every current member. Revoked machines' entries are re-signed with the new key and
 * re-published by the broker, so machines that join later see them revoked too.
 * Everything that can fail is computed before the broker is asked; the new key is on disk (staged)
 * before the broker binds it. If the process died after the key file moved but before the settings
 * and outbox rows were written, the next call first finishes that rotation, then rotates again.
 */
export async function rotateNetworkKey(
  home: string,
  options: { nowMs?: number } = {},
): Promise<RotationResult> {
  const keys = loadIdentity(home);
  const current = requireAdminKey(home, keys.network, 'rotate the network key');
  // undefined: an interrupted rotation was finished first; now rotate as asked
  return (await rotateWith(home, keys, current, options)) ?? (await rotateNetworkKey(home, options));
}

async function rotateWith(
  home: string,
  keys: MachineKeys,
  current: SignKeyPair,
  options: { nowMs?: number },
): Promise<RotationResult | undefined> {
  const store = openStore(home);
  try {
    const settings = requireNetworkSettings(store);
    const nowMs = options.nowMs ?? Date.now();
    if (!same(settings.networkPk, current.publicKey)) {
      // an interrupted rotation: the broker and the key file hold the new key, the settings not yet
      const handOver = prepareHandOver(store, settings, keys.sign.secretKey, current, [], nowMs);
      recordHandOver(store, settings.networkPk, current.publicKey, handOver);
      return undefined;
    }
    const next = generateNetworkKey();
    const revokedRows = store.machines.list().filter((m) => m.revoked !== null && m.sign_pk && m.box_pk);
    const revokedEntries = revokedRows
      .slice(-MAX_NETWORK_KEY_REVOCATIONS)
      .map((m) => encodeRosterEntry(entryFields(m), current.secretKey));
    const handOver = prepareHandOver(store, settings, keys.sign.secretKey, next, revokedEntries, nowMs);
    stageNetworkKey(home, next);
    try {
      await sendAdminRequest(
        targetOf(settings),
        createRotateRequest(settings.name, current, next, nowMs),
        'network key rotation',
        'this machine’s network key is no longer the one the broker is bound to (another member may have rotated it already)',
      );
    } catch (err) {
      discardStagedNetworkKey(home);
      throw err;
    }
    commitStagedNetworkKey(home);
    recordHandOver(store, current.publicKey, next.publicKey, handOver);

    // best effort: the broker re-publishes each revocation signed with the new key
    const republishedRevocations: string[] = [];
    for (const m of revokedRows) {
      try {
        const rosterEntry = encodeRosterEntry(entryFields(m), next.secretKey);
        await sendAdminRequest(
          targetOf(settings),
          createAdminRequest({ op: 'revoke', name: m.name, rosterEntry }, next.secretKey),
          `re-publication of ${m.name}'s revocation`,
          'the broker no longer knows that machine',
        );
        republishedRevocations.push(m.name);
      } catch {
        // members learn the revocation from the network-key envelope anyway
      }
    }
    return { newPk: next.publicKey, notified: handOver.notified, republishedRevocations };
  } finally {
    store.close();
  }
}

interface HandOver {
  ownEntry: Uint8Array;
  rows: NewOutboxRow[];
  notified: string[];
}

/** The re-signed own entry and one sealed `network-key` envelope per current member. */
function prepareHandOver(
  store: Store,
  settings: NetworkSettings,
  signSecretKey: Uint8Array,
  next: SignKeyPair,
  revoked: Uint8Array[],
  nowMs: number,
): HandOver {
  const rows: NewOutboxRow[] = [];
  const notified: string[] = [];
  for (const member of store.machines.members()) {
    if (member.name === settings.name || !member.box_pk) continue;
    // only admins get the secret; everyone gets its own entry signed with the new key
    const body: NetworkKeyMessage = {
      ...(member.admin === 1 ? { networkSeed: next.secretKey.slice(0, 32) } : {}),
      rosterEntry: encodeRosterEntry(entryFields(member), next.secretKey),
      networkPk: next.publicKey,
      previousPk: settings.networkPk,
      revoked,
    };
    const sealed = sealEnvelope(
      { type: 'network-key', from: settings.name, to: member.name, body, ttlMs: MAX_ENVELOPE_TTL_MS },
      signSecretKey,
      new Uint8Array(member.box_pk),
      nowMs,
    );
    rows.push(sealedRow(sealed, 'network-key', member.name));
    notified.push(member.name);
  }
  return { ownEntry: resignOwnEntry(settings, next.secretKey), rows, notified };
}

function recordHandOver(store: Store, previousPk: Uint8Array, networkPk: Uint8Array, h: HandOver): void {
  store.db.transaction(() => {
    saveRotatedNetworkKey(store, { networkPk, previousPk, rosterEntry: h.ownEntry });
    for (const row of h.rows) store.outbox.add(row);
  })();
}

function entryFields(m: MachineRow): Omit<RosterEntry, 'v'> {
  const entry = rowAsEntry(m);
  if (!entry) throw new ProtocolError(`no roster keys for ${m.name}`);
  const { v: _v, invite: _invite, ...fields } = entry;
  return fields;
}

/**
 * `isaac promote NAME` (admins only): NAME's entry is re-signed with the admin flag and, with the
 * network key, queued for NAME in a sealed `network-key` envelope (isaac-node delivers it; NAME
 * installs the key and re-publishes its entry, so every member sees it is an admin).
 */
export function promoteMachine(home: string, target: string, nowMs = Date.now()): void {
  const name = assertMachineName(target);
  const keys = loadIdentity(home);
  const network = requireAdminKey(home, keys.network, 'promote machines');
  const store = openStore(home);
  try {
    const settings = requireNetworkSettings(store);
    const row = store.machines.get(name);
    if (name === settings.name) throw new UsageError(`${name} is this machine, already an admin`);
    if (!row?.box_pk || row.revoked !== null || !rowAsEntry(row)) {
      throw new UsageError(`${name} is not a member of this network`, { hint: 'see /show machines' });
    }
    const entry = { ...entryFields(row), admin: true as const };
    const body: NetworkKeyMessage = {
      networkSeed: network.secretKey.slice(0, 32),
      rosterEntry: encodeRosterEntry(entry, network.secretKey),
      networkPk: network.publicKey,
      previousPk: network.publicKey,
      revoked: [],
    };
    const sealed = sealEnvelope(
      { type: 'network-key', from: settings.name, to: name, body, ttlMs: MAX_ENVELOPE_TTL_MS },
      keys.sign.secretKey,
      new Uint8Array(row.box_pk),
      nowMs,
    );
    store.db.transaction(() => {
      store.outbox.add(sealedRow(sealed, 'network-key', name));
      store.machines.applyRoster(entry);
    })();
  } finally {
    store.close();
  }
}
