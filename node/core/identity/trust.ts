import { ProtocolError } from '../../../schemas/errors.ts';
import { type RosterEntry, rosterSupersedes, verifyRosterEntry } from '../../../schemas/roster.ts';
import type { MachineRow, RosterUpdate } from '../store/machines.ts';
import type { Store } from '../store/store.ts';
import { loadPreviousNetworkPks, requireNetworkSettings } from './settings.ts';

/**
 * How a member decides which roster entries to trust (DESIGN.md, "Identity, trust and the
 * broker"): signed by the network key, or made with an invite whose grant the network key signed;
 * one enrollment per invite; a live name is taken over only as rosterSupersedes allows.
 */

export const same = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean =>
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
  if (row.revoked !== null && row.revoked_by !== null) entry.revokedBy = row.revoked_by;
  if (row.admin === 1) entry.admin = true;
  return entry;
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

export type RosterVerdict =
  | { ok: true; update: RosterUpdate; changed: boolean }
  | { ok: false; reason: 'bad-roster' | 'invite-reused'; detail: string };

/**
 * A retained roster payload for `name`, as a member takes it: verified (see
 * verifyRosterEntryTrusted), one set of keys per invite (a second machine enrolled with the same
 * invite is refused even if a broker let it through), and applied only if it supersedes what is
 * known. Records the invite as used. Returns the row to keep (the current one when not superseded).
 */
export function acceptRosterEntry(store: Store, name: string, payload: Uint8Array): RosterVerdict {
  let entry: RosterEntry;
  try {
    entry = verifyRosterEntryTrusted(store, payload, name);
  } catch (err) {
    return { ok: false, reason: 'bad-roster', detail: err instanceof Error ? err.message : String(err) };
  }
  if (entry.invite) {
    const used = store.db
      .prepare<[Uint8Array], { name: string; sign_pk: Uint8Array }>(
        'SELECT name, sign_pk FROM roster_invites WHERE nonce = ?',
      )
      .get(entry.invite.nonce);
    if (used && (used.name !== entry.name || !same(used.sign_pk, entry.signPk))) {
      return {
        ok: false,
        reason: 'invite-reused',
        detail: `a second enrollment of ${entry.name} with an invite already used by other keys`,
      };
    }
    if (!used)
      store.db
        .prepare('INSERT INTO roster_invites(nonce, name, sign_pk, seen_at) VALUES (?, ?, ?, ?)')
        .run(Buffer.from(entry.invite.nonce), entry.name, Buffer.from(entry.signPk), Date.now());
  }
  const current = rowAsEntry(store.machines.get(name));
  const changed = rosterSupersedes(current, entry);
  const chosen = changed || !current ? entry : current;
  return {
    ok: true,
    changed,
    update: {
      name,
      signPk: chosen.signPk,
      boxPk: chosen.boxPk,
      added: chosen.added,
      revoked: chosen.revoked ?? null,
      revokedBy: chosen.revokedBy ?? null,
      admin: chosen.admin === true,
    },
  };
}
