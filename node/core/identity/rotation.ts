import { createAdminRequest, createRotateRequest } from '../../../schemas/admin.ts';
import { MAX_ENVELOPE_TTL_MS, sealEnvelope } from '../../../schemas/envelope.ts';
import { ConfigError, errorLine, ProtocolError } from '../../../schemas/errors.ts';
import {
  MAX_NETWORK_KEY_REVOCATIONS,
  type NetworkKeyMessage,
  validateMessageBody,
} from '../../../schemas/messages.ts';
import {
  encodeRosterEntry,
  type RosterEntry,
  rosterSupersedes,
  verifyRosterEntry,
} from '../../../schemas/roster.ts';
import {
  commitStagedNetworkKey,
  discardStagedNetworkKey,
  generateNetworkKey,
  loadIdentity,
  type MachineKeys,
  networkKeyFromSeed,
  type SignKeyPair,
  stageNetworkKey,
} from '../crypto/keys.ts';
import type { MachineRow } from '../store/machines.ts';
import { type NewOutboxRow, sealedRow } from '../store/outbox.ts';
import { openStore, type Store } from '../store/store.ts';
import { sendAdminRequest } from './broker-ops.ts';
import {
  loadPreviousNetworkPks,
  type NetworkSettings,
  requireNetworkSettings,
  saveRotatedNetworkKey,
} from './settings.ts';

/**
 * Rotating the network key after a revocation (DESIGN.md, "Identity, trust and the broker"): the
 * revoked machine still holds the old key, so the broker is moved to a new one (admin op `rotate`)
 * and every remaining member gets the new secret in a sealed `network-key` envelope through the
 * durable outbox. Members keep the old public keys only to recognise entries they already trust;
 * an entry signed by a retired key can never add or re-key a machine (see verifyRosterEntryTrusted).
 */

export interface RotationResult {
  newPk: Uint8Array;
  /** members the new key was queued for (delivered by isaac-node, also when they are offline now) */
  notified: string[];
  /** revocations re-signed with the new key and re-published by the broker */
  republishedRevocations: string[];
}

const same = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean =>
  !!a && !!b && Buffer.from(a).equals(Buffer.from(b));

/** A stored machine row as the roster entry it came from (undefined while keys are missing). */
export function rowAsEntry(row: MachineRow | undefined): RosterEntry | undefined {
  if (!row?.sign_pk || !row.box_pk || row.added === null) return undefined;
  const entry: RosterEntry = {
    v: 1,
    name: row.name,
    signPk: row.sign_pk,
    boxPk: row.box_pk,
    added: row.added,
  };
  if (row.revoked !== null) entry.revoked = row.revoked;
  return entry;
}

function targetOf(settings: NetworkSettings) {
  return {
    brokers: settings.brokers,
    fingerprint: settings.fingerprint,
    certPem: settings.certPem,
    insecure: settings.insecure,
  };
}

/** This machine's own entry, re-signed with `networkSecretKey`. */
function resignOwnEntry(settings: NetworkSettings, networkSecretKey: Uint8Array): Uint8Array {
  const own = verifyRosterEntry(settings.rosterEntry, settings.networkPk, settings.name);
  const { v: _v, ...fields } = own;
  return encodeRosterEntry(fields, networkSecretKey);
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
  const current = keys.network;
  if (!current) {
    throw new ConfigError('this machine does not hold the network key', {
      hint: 'rotate the key on a member machine that was set up with `isaac-node init` or `join`',
    });
  }
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
  const body: NetworkKeyMessage = {
    networkSeed: next.secretKey.slice(0, 32),
    networkPk: next.publicKey,
    previousPk: settings.networkPk,
    revoked,
  };
  const rows: NewOutboxRow[] = [];
  const notified: string[] = [];
  for (const member of store.machines.members()) {
    if (member.name === settings.name || !member.box_pk) continue;
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
  const { v: _v, ...fields } = entry;
  return fields;
}

export type NetworkKeyOutcome =
  | { installed: true; networkPk: Uint8Array; revocationsApplied: number }
  | { installed: false; refused: false; reason: 'already-installed' }
  | { installed: false; refused: true; reason: NetworkKeyRefusal; detail: string };

export type NetworkKeyRefusal =
  | 'network-key-malformed'
  | 'network-key-sender-not-member'
  | 'network-key-sender-revoked'
  | 'network-key-mismatch'
  | 'network-key-not-from-current';

/** What acceptNetworkKey needs of an opened, signature-checked envelope. */
export interface ReceivedEnvelope {
  type: string;
  from: string;
  body: unknown;
}

/**
 * Installs a new network key handed over by another member. Only from a current, non-revoked
 * member per this machine's verified roster, only as the successor of exactly the key this machine
 * holds now. The revocations it carries (signed by the current key) are applied first, so a sender
 * that was itself revoked meanwhile is refused. Writes the key file, then the settings; a redelivery
 * after a crash in between finishes the job. Refusals change nothing and say why.
 */
export function acceptNetworkKey(store: Store, envelope: ReceivedEnvelope): NetworkKeyOutcome {
  const refuse = (reason: NetworkKeyRefusal, detail: string): NetworkKeyOutcome => ({
    installed: false,
    refused: true,
    reason,
    detail,
  });
  let body: NetworkKeyMessage;
  try {
    if (envelope.type !== 'network-key') throw new ProtocolError(`a ${envelope.type} is not a network key`);
    body = validateMessageBody('network-key', envelope.body);
  } catch (err) {
    return refuse('network-key-malformed', errorLine(err));
  }
  const settings = requireNetworkSettings(store);
  const sender = store.machines.get(envelope.from);
  if (envelope.from === settings.name || !sender?.sign_pk || !sender.box_pk) {
    return refuse(
      'network-key-sender-not-member',
      `${envelope.from} is not a member in this machine's roster`,
    );
  }
  if (sender.revoked !== null) return refuse('network-key-sender-revoked', `${envelope.from} is revoked`);
  const next = networkKeyFromSeed(body.networkSeed);
  if (!same(next.publicKey, body.networkPk)) {
    return refuse('network-key-mismatch', 'the key does not match its public key');
  }
  if (same(body.networkPk, settings.networkPk)) {
    return { installed: false, refused: false, reason: 'already-installed' };
  }
  if (!same(body.previousPk, settings.networkPk)) {
    return refuse(
      'network-key-not-from-current',
      `${envelope.from} rotated from a key this machine does not hold now`,
    );
  }
  const revocations: RosterEntry[] = [];
  for (const bytes of body.revoked) {
    try {
      const entry = verifyRosterEntry(bytes, settings.networkPk);
      if (entry.revoked !== undefined) revocations.push(entry);
    } catch {
      // an entry that does not verify is ignored, like one on a roster topic
    }
  }
  if (revocations.some((e) => e.name === envelope.from && rosterSupersedes(rowAsEntry(sender), e))) {
    applyRevocations(store, revocations);
    return refuse('network-key-sender-revoked', `${envelope.from} is revoked by the entries it carries`);
  }
  const rosterEntry = resignOwnEntry(settings, next.secretKey);
  stageNetworkKey(store.home, next);
  commitStagedNetworkKey(store.home);
  let applied = 0;
  store.db.transaction(() => {
    applied = applyRevocations(store, revocations);
    saveRotatedNetworkKey(store, { networkPk: next.publicKey, previousPk: settings.networkPk, rosterEntry });
  })();
  return { installed: true, networkPk: next.publicKey, revocationsApplied: applied };
}

function applyRevocations(store: Store, entries: RosterEntry[]): number {
  let applied = 0;
  for (const entry of entries) {
    if (!rosterSupersedes(rowAsEntry(store.machines.get(entry.name)), entry)) continue;
    store.machines.applyRoster(entry);
    applied++;
  }
  return applied;
}

/**
 * Verifies a roster payload for this machine: against the current network key, or against an
 * earlier one of this network only when it repeats what this machine already trusts (same keys,
 * same enrollment, nothing superseded). So members' entries signed before a rotation stay valid,
 * while the revoked holder of an old key can neither add a machine nor swap one's keys with it.
 * Throws ProtocolError otherwise.
 */
export function verifyRosterEntryTrusted(
  store: Store,
  bytes: Uint8Array,
  expectedName?: string,
): RosterEntry {
  const settings = requireNetworkSettings(store);
  try {
    return verifyRosterEntry(bytes, settings.networkPk, expectedName);
  } catch (first) {
    for (const pk of loadPreviousNetworkPks(store)) {
      let entry: RosterEntry;
      try {
        entry = verifyRosterEntry(bytes, pk, expectedName);
      } catch {
        continue;
      }
      const known = rowAsEntry(store.machines.get(entry.name));
      if (
        known &&
        same(known.signPk, entry.signPk) &&
        same(known.boxPk, entry.boxPk) &&
        known.added === entry.added &&
        !rosterSupersedes(known, entry)
      ) {
        return entry;
      }
      throw new ProtocolError(`roster entry for ${entry.name} is signed by a retired network key`, {
        hint: 'ignore it: only entries signed by the current key can add or change a machine',
      });
    }
    throw first;
  }
}

/** This machine's own signed roster entry as currently saved (re-signed after a rotation). */
export function ownRosterEntry(store: Store): Uint8Array {
  return requireNetworkSettings(store).rosterEntry;
}
