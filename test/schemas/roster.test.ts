import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import nacl from 'tweetnacl';
import { decodeCbor, encodeCbor } from '../../schemas/codec.ts';
import { ProtocolError } from '../../schemas/errors.ts';
import { createInviteGrant } from '../../schemas/invite.ts';
import {
  encodeInvitedRosterEntry,
  encodeRosterEntry,
  type RosterEntry,
  type RosterEntryInput,
  rosterSupersedes,
  verifyRosterEntry,
} from '../../schemas/roster.ts';
import { signDetached } from '../../schemas/sign.ts';
import { fromJsonValue, unhex, vectorKeys } from '../../schemas/vectors/keys.ts';

const k = vectorKeys();
const vectors = JSON.parse(
  readFileSync(new URL('../../schemas/vectors/roster.json', import.meta.url), 'utf8'),
) as {
  cases: { entry: unknown; encoded: string }[];
};

test('golden roster vectors: encoding reproduces the bytes and verification gives the entry back', () => {
  for (const c of vectors.cases) {
    const entry = fromJsonValue(c.entry) as RosterEntryInput;
    assert.equal(Buffer.from(encodeRosterEntry(entry, k.network.secretKey)).toString('hex'), c.encoded);
    assert.deepEqual(verifyRosterEntry(unhex(c.encoded), k.network.publicKey, entry.name), {
      v: 1,
      ...entry,
    });
  }
});

test('entries not signed by the network key, altered, or on the wrong topic are refused', () => {
  const entry: RosterEntryInput = {
    name: 'alice',
    signPk: k.alice.sign.publicKey,
    boxPk: k.alice.box.publicKey,
    added: 1000,
  };
  const good = encodeRosterEntry(entry, k.network.secretKey);
  // the broker (or anyone without the network key) inserting a machine
  const forged = encodeRosterEntry({ ...entry, name: 'mallory' }, nacl.sign.keyPair().secretKey);
  assert.throws(() => verifyRosterEntry(forged, k.network.publicKey), /not signed by this network/);
  // swapping alice's box key for the attacker's, keeping the network signature
  const [entryBytes, sig] = decodeCbor(good) as [Uint8Array, Uint8Array];
  const fields = decodeCbor(entryBytes) as Record<string, unknown>;
  const swapped = encodeCbor([encodeCbor({ ...fields, boxPk: nacl.box.keyPair().publicKey }), sig]);
  assert.throws(() => verifyRosterEntry(swapped, k.network.publicKey), /not signed by this network/);
  // a valid entry for alice replayed on bob's roster topic
  assert.throws(() => verifyRosterEntry(good, k.network.publicKey, 'bob'), /arrived on bob's roster topic/);
  // signed, but structurally wrong
  const badKey = encodeCbor({ ...fields, signPk: new Uint8Array(31) });
  assert.throws(
    () =>
      verifyRosterEntry(encodeCbor([badKey, signDetached(badKey, k.network.secretKey)]), k.network.publicKey),
    ProtocolError,
  );
  for (const junk of [
    new Uint8Array(0),
    new Uint8Array([0x82, 1, 2]),
    new Uint8Array(2000),
    encodeCbor('online'),
  ]) {
    assert.throws(() => verifyRosterEntry(junk, k.network.publicKey), ProtocolError);
  }
  assert.equal(verifyRosterEntry(good, k.network.publicKey, 'alice').name, 'alice');
});

test('supersede rules: later enrollment wins, revocation is final, old entries cannot be replayed', () => {
  const base: RosterEntry = {
    v: 1,
    name: 'bob',
    signPk: k.bob.sign.publicKey,
    boxPk: k.bob.box.publicKey,
    added: 1000,
  };
  const revoked: RosterEntry = { ...base, revoked: 5000 };
  const rejoined: RosterEntry = { ...base, signPk: k.alice.sign.publicKey, added: 9000 };
  assert.equal(rosterSupersedes(undefined, base), true);
  assert.equal(rosterSupersedes(base, revoked), true);
  assert.equal(rosterSupersedes(revoked, base), false, 'a replayed unrevoked entry must not un-revoke');
  assert.equal(rosterSupersedes(revoked, rejoined), true);
  assert.equal(rosterSupersedes(rejoined, base), false);
  assert.equal(rosterSupersedes(base, base), false);
});

test('encoding refuses bad names, keys and times', () => {
  const entry: RosterEntryInput = {
    name: 'alice',
    signPk: k.alice.sign.publicKey,
    boxPk: k.alice.box.publicKey,
    added: 1,
  };
  assert.throws(() => encodeRosterEntry({ ...entry, name: 'Alice' }, k.network.secretKey), ProtocolError);
  assert.throws(
    () => encodeRosterEntry({ ...entry, boxPk: new Uint8Array(3) }, k.network.secretKey),
    ProtocolError,
  );
  assert.throws(() => encodeRosterEntry({ ...entry, added: -1 }, k.network.secretKey), ProtocolError);
});

test('invited entries: signed by the invite key with a grant for that name; never admin or revoked', () => {
  const { grant, inviteSeed, fields } = createInviteGrant('laptop', k.network.secretKey, {
    expires: 10_000,
    issued: 500,
  });
  const inviteKey = nacl.sign.keyPair.fromSeed(inviteSeed);
  const entry = { name: 'laptop', signPk: k.bob.sign.publicKey, boxPk: k.bob.box.publicKey, added: 2000 };
  const invited = encodeInvitedRosterEntry(entry, inviteKey.secretKey, grant);
  const verified = verifyRosterEntry(invited, k.network.publicKey, 'laptop');
  assert.deepEqual(verified.invite?.nonce, fields.nonce);
  assert.equal(verified.admin, undefined);
  // the golden entry of invite.json
  const golden = JSON.parse(
    readFileSync(new URL('../../schemas/vectors/invite.json', import.meta.url), 'utf8'),
  ) as { invitedRosterEntry: string };
  assert.equal(
    verifyRosterEntry(unhex(golden.invitedRosterEntry), k.network.publicKey, 'laptop').name,
    'laptop',
  );
  // the same invite used for another name, or by a key that is not the invite's
  assert.throws(
    () =>
      verifyRosterEntry(
        encodeInvitedRosterEntry({ ...entry, name: 'other' }, inviteKey.secretKey, grant),
        k.network.publicKey,
      ),
    /carries an invite for laptop/,
  );
  assert.throws(
    () =>
      verifyRosterEntry(encodeInvitedRosterEntry(entry, k.alice.sign.secretKey, grant), k.network.publicKey),
    /not signed by the key of the invite/,
  );
  // an invited machine cannot call itself admin (it would be believed to hold the network key)
  const [body, sig] = decodeCbor(invited) as [Uint8Array, Uint8Array, Uint8Array];
  const adminBody = encodeCbor({ ...(decodeCbor(body) as object), admin: true });
  assert.throws(
    () =>
      verifyRosterEntry(
        encodeCbor([adminBody, signDetached(adminBody, inviteKey.secretKey), grant]),
        k.network.publicKey,
      ),
    /made with an invite cannot say admin or revoked/,
  );
  assert.ok(sig.length === 64);
  // enrolled long after the invite expired
  assert.throws(
    () =>
      verifyRosterEntry(
        encodeInvitedRosterEntry({ ...entry, added: 10_000_000 }, inviteKey.secretKey, grant),
        k.network.publicKey,
      ),
    /after its invite expired/,
  );
});

test('supersede rules for invites and admins: a reused invite never takes a live name; promotion wins', () => {
  const grantAt = (issued: number) => {
    const made = createInviteGrant('bob', k.network.secretKey, { expires: issued + 1000, issued });
    return made.fields;
  };
  const live: RosterEntry = {
    v: 1,
    name: 'bob',
    signPk: k.bob.sign.publicKey,
    boxPk: k.bob.box.publicKey,
    added: 1000,
  };
  const stale = { ...live, signPk: k.alice.sign.publicKey, added: 2000, invite: grantAt(900) } as RosterEntry;
  const fresh = {
    ...live,
    signPk: k.alice.sign.publicKey,
    added: 3000,
    invite: grantAt(1500),
  } as RosterEntry;
  assert.equal(
    rosterSupersedes(live, stale),
    false,
    'an invite issued before bob enrolled cannot re-key bob',
  );
  assert.equal(rosterSupersedes(live, fresh), true, 'an invite made after (bob was revoked meanwhile) can');
  const promoted: RosterEntry = { ...live, admin: true };
  assert.equal(rosterSupersedes(live, promoted), true);
  assert.equal(rosterSupersedes(promoted, live), false);
  assert.equal(rosterSupersedes(live, { ...promoted, signPk: k.alice.sign.publicKey }), false);
});
