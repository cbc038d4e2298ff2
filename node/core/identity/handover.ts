import { errorLine, ProtocolError } from '../../../schemas/errors.ts';
import { type NetworkKeyMessage, validateMessageBody } from '../../../schemas/messages.ts';
import {
  encodeRosterEntry,
  type RosterEntry,
  rosterSupersedes,
  verifyRosterEntry,
} from '../../../schemas/roster.ts';
import {
  commitStagedNetworkKey,
  loadIdentity,
  networkKeyFromSeed,
  type SignKeyPair,
  stageNetworkKey,
} from '../crypto/keys.ts';
import type { Store } from '../store/store.ts';
import {
  type NetworkSettings,
  requireNetworkSettings,
  saveNetworkSettings,
  saveRotatedNetworkKey,
} from './settings.ts';
import { rowAsEntry, same } from './trust.ts';

/**
 * Receiving a network key from an admin (DESIGN.md, "Identity, trust and the broker"): after a
 * rotation (admins get the new secret, members the new public key and their own entry re-signed
 * with it) and on promotion (the same key, now held here too).
 */

/** This machine's own entry, re-signed with `networkSecretKey` (an invite's grant is dropped). */
export function resignOwnEntry(settings: NetworkSettings, networkSecretKey: Uint8Array): Uint8Array {
  const own = verifyRosterEntry(settings.rosterEntry, settings.networkPk, settings.name);
  const { v: _v, invite: _invite, ...fields } = own;
  return encodeRosterEntry(fields, networkSecretKey);
}

export type NetworkKeyOutcome =
  | { installed: true; networkPk: Uint8Array; revocationsApplied: number; promoted?: true }
  | { installed: false; refused: false; reason: 'already-installed' }
  | { installed: false; refused: true; reason: NetworkKeyRefusal; detail: string };

export type NetworkKeyRefusal =
  | 'network-key-malformed'
  | 'network-key-sender-not-member'
  | 'network-key-sender-revoked'
  | 'network-key-sender-not-admin'
  | 'network-key-bad-entry'
  | 'network-key-mismatch'
  | 'network-key-not-from-current';

/** What acceptNetworkKey needs of an opened, signature-checked envelope. */
export interface ReceivedEnvelope {
  type: string;
  from: string;
  body: unknown;
}

/**
 * Installs a network key handed over by an admin. Only from a current, non-revoked admin per this
 * machine's verified roster; a new key only as the successor of exactly the key this machine
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
  if (sender.admin !== 1)
    return refuse(
      'network-key-sender-not-admin',
      `${envelope.from} is not an admin in this machine's roster`,
    );
  let next: SignKeyPair | undefined;
  if (body.networkSeed) {
    next = networkKeyFromSeed(body.networkSeed);
    if (!same(next.publicKey, body.networkPk))
      return refuse('network-key-mismatch', 'the key does not match its public key');
  }
  // the recipient's own entry as the admin signed it with the (new) key, if it sent one
  let ownEntry: Uint8Array | undefined;
  if (body.rosterEntry) {
    const own = verifyRosterEntry(settings.rosterEntry, settings.networkPk, settings.name);
    try {
      const given = verifyRosterEntry(body.rosterEntry, body.networkPk, settings.name);
      if (!same(given.signPk, own.signPk) || !same(given.boxPk, own.boxPk) || given.revoked !== undefined)
        return refuse('network-key-bad-entry', 'the re-signed entry is not this machine’s');
      if (given.admin === true && !next)
        return refuse('network-key-bad-entry', 'an admin entry without the network key');
    } catch (err) {
      return refuse('network-key-bad-entry', errorLine(err));
    }
    ownEntry = body.rosterEntry;
  }
  if (same(body.networkPk, settings.networkPk)) {
    // a promotion: the current key, now to be held here too
    if (!next || loadIdentity(store.home).network || !ownEntry)
      return { installed: false, refused: false, reason: 'already-installed' };
    stageNetworkKey(store.home, next);
    commitStagedNetworkKey(store.home);
    const entry = ownEntry;
    store.db.transaction(() => {
      saveNetworkSettings(store, { ...settings, rosterEntry: entry });
      store.machines.applyRoster({ ...verifyRosterEntry(entry, settings.networkPk, settings.name) });
    })();
    return { installed: true, networkPk: next.publicKey, revocationsApplied: 0, promoted: true };
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
  const rosterEntry = ownEntry ?? (next ? resignOwnEntry(settings, next.secretKey) : undefined);
  if (!rosterEntry)
    return refuse('network-key-malformed', 'neither the key nor this machine’s re-signed entry');
  if (next) {
    stageNetworkKey(store.home, next);
    commitStagedNetworkKey(store.home);
  }
  let applied = 0;
  store.db.transaction(() => {
    applied = applyRevocations(store, revocations);
    saveRotatedNetworkKey(store, { networkPk: body.networkPk, previousPk: settings.networkPk, rosterEntry });
  })();
  return { installed: true, networkPk: body.networkPk, revocationsApplied: applied };
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
