import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import nacl from 'tweetnacl';
import { initDataDir } from '../../../broker/init.ts';
import { commitStagedNetworkKey, loadIdentity, stageNetworkKey } from '../../../node/core/crypto/keys.ts';
import { acceptNetworkKey } from '../../../node/core/identity/handover.ts';
import { rotateNetworkKey } from '../../../node/core/identity/rotation.ts';
import { loadNetworkSettings, loadPreviousNetworkPks } from '../../../node/core/identity/settings.ts';
import { verifyRosterEntryTrusted } from '../../../node/core/identity/trust.ts';
import { paths } from '../../../node/core/paths.ts';
import { openStore, type Store } from '../../../node/core/store/store.ts';
import { EnvelopeCodec } from '../../../node/daemon/bus/codec.ts';
import { initNetwork, joinNetwork } from '../../../node/daemon/identity/init.ts';
import { runRevokeCommand } from '../../../node/shell/identity/commands.ts';
import { createInvite } from '../../../node/shell/identity/membership.ts';
import { CONNACK_INVITE_BEFORE_ROTATION, createRotateRequest } from '../../../schemas/admin.ts';
import { sealEnvelope } from '../../../schemas/envelope.ts';
import type { NetworkKeyMessage } from '../../../schemas/messages.ts';
import { encodeRosterEntry, rosterSupersedes, verifyRosterEntry } from '../../../schemas/roster.ts';
import { inviteEnrollRequest, startTestBroker, type TestBroker } from '../../helpers/broker.ts';
import { captureIO } from '../../helpers/capture-io.ts';
import { machineLogin } from '../../helpers/node-procs.ts';
import { tempDir, waitFor } from '../../helpers/tmp.ts';

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : 'none');

/**
 * A machine's MQTT presence without isaac-node: its persistent session (clean:false, client id =
 * name), roster entries applied as isaac-node applies them (verified, superseding), inbox payloads
 * collected, and its outbox published the way node/bus does (row deleted on PUBACK).
 */
class Presence {
  readonly inbox: { topic: string; payload: Uint8Array }[] = [];
  private constructor(
    readonly name: string,
    readonly store: Store,
    private readonly client: MqttClient,
  ) {}

  static async connect(home: string, url: string, t: { after(fn: () => unknown): void }): Promise<Presence> {
    const login = machineLogin(home, url);
    const store = openStore(home);
    const client = mqtt.connect(url, {
      ...login.options,
      clientId: login.name,
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const presence = new Presence(login.name, store, client);
    t.after(() => {
      client.end(true);
      store.close();
    });
    client.on('message', (topic, payload) => {
      const bytes = new Uint8Array(payload);
      const [, machine, kind] = topic.split('/');
      if (machine === 'roster' && kind && bytes.length > 0) {
        try {
          const entry = verifyRosterEntryTrusted(store, bytes, kind);
          const row = store.machines.get(kind);
          const current =
            row?.sign_pk && row.box_pk && row.added !== null
              ? {
                  v: 1 as const,
                  name: kind,
                  signPk: row.sign_pk,
                  boxPk: row.box_pk,
                  added: row.added,
                  ...(row.revoked !== null ? { revoked: row.revoked } : {}),
                  ...(row.admin === 1 ? { admin: true as const } : {}),
                }
              : undefined;
          if (rosterSupersedes(current, entry)) store.machines.applyRoster(entry);
        } catch {
          // refused like isaac-node refuses it
        }
      } else if (machine === login.name) {
        presence.inbox.push({ topic, payload: bytes });
      }
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync({ [`isaac/${login.name}/msg`]: { qos: 1 }, 'isaac/roster/+': { qos: 1 } });
    return presence;
  }

  /** What isaac-node does on every connect: re-publish this machine's saved, signed roster entry. */
  async publishOwnEntry(): Promise<void> {
    const entry = loadNetworkSettings(this.store)?.rosterEntry;
    assert.ok(entry);
    await this.client.publishAsync(`isaac/roster/${this.name}`, Buffer.from(entry), { qos: 1, retain: true });
  }

  /** Goes offline; the broker keeps queueing for this machine's session. */
  async offline(): Promise<void> {
    await this.client.endAsync();
  }

  async drainOutbox(): Promise<number> {
    let sent = 0;
    for (const row of this.store.outbox.pending()) {
      await this.client.publishAsync(row.topic, Buffer.from(row.payload), { qos: 1 });
      this.store.outbox.delete(row.id);
      sent++;
    }
    return sent;
  }
}

/** A command context whose confirmations answer `answers` in turn (then no). */
function ctxFor(store: Store, out: string[], answers: boolean[], assumeYes = false) {
  const io = captureIO(answers);
  io.out = io.err = (s: string) => void out.push(s);
  return { store, env: {}, assumeYes, io };
}

async function network(t: { after(fn: () => unknown): void }): Promise<{ broker: TestBroker; root: string }> {
  const root = tempDir(t, 'isaac-rot-');
  const dataDir = join(root, 'data');
  const { setupToken } = initDataDir(dataDir);
  const broker = await startTestBroker(t, {
    reuse: { dataDir, networkKeys: nacl.sign.keyPair(), secrets: new Map() },
  });
  await initNetwork({
    home: join(root, 'alpha'),
    brokers: [broker.tlsUrl],
    fingerprint: broker.fingerprint,
    setupToken,
    name: 'alpha',
  });
  for (const name of ['beta', 'gamma']) {
    const code = createInvite(join(root, 'alpha'), name);
    await joinNetwork({ home: join(root, name), code });
  }
  return { broker, root };
}

test('revoke with rotation: a copy of the old key is worthless at the broker, members get the new public key and their re-signed entries', async (t) => {
  const { broker, root } = await network(t);
  const [homeA, homeB, homeC] = ['alpha', 'beta', 'gamma'].map((n) => join(root, n)) as [
    string,
    string,
    string,
  ];
  const a = await Presence.connect(homeA, broker.tlsUrl, t);
  const beforeRevoke = await Presence.connect(homeB, broker.tlsUrl, t);
  await waitFor(
    () =>
      ['beta', 'gamma'].every((n) => a.store.machines.get(n)?.box_pk) &&
      !!beforeRevoke.store.machines.get('alpha')?.sign_pk,
    'alpha and beta know the roster',
  );
  // beta is offline during the revocation and the hand-over: its broker session queues for it
  await beforeRevoke.offline();
  const oldPk = loadIdentity(homeA).network?.publicKey;
  // what a revoked admin would have kept: a copy of the old network key
  const cOldKey = loadIdentity(homeA).network;
  assert.ok(oldPk && cOldKey);
  assert.equal(loadIdentity(homeC).network, undefined, 'gamma, a member, never held it');

  // isaac revoke gamma --rotate
  const out: string[] = [];
  assert.equal(await runRevokeCommand(['gamma', '--rotate'], ctxFor(a.store, out, [true])), 0);
  const said = out.join('');
  assert.match(said, /revoked gamma/);
  assert.match(said, /rotated the network key/);
  assert.match(said, /new key queued for beta;/);
  assert.doesNotMatch(said, /still holds the network key/);
  const newPk = loadIdentity(homeA).network?.publicKey;
  assert.notEqual(hex(newPk), hex(oldPk));
  assert.equal(hex(broker.running?.state.networkPk()), hex(newPk), 'the broker is bound to the new key');
  assert.equal(existsSync(join(paths.keys(homeA), 'network.next.key')), false, 'no staged key left behind');
  const settingsA = loadNetworkSettings(a.store);
  assert.equal(hex(settingsA?.networkPk), hex(newPk));
  assert.deepEqual(loadPreviousNetworkPks(a.store).map(hex), [hex(oldPk)]);
  // alpha's own entry is re-signed with the new key
  assert.equal(
    verifyRosterEntry(settingsA?.rosterEntry as Uint8Array, newPk as Uint8Array, 'alpha').name,
    'alpha',
  );

  // gamma's copy of the old key can no longer enroll anything, nor rotate the key back
  assert.equal(await broker.admin(createRotateRequest('gamma', cOldKey, nacl.sign.keyPair())), 5);
  assert.equal(
    await broker.admin(inviteEnrollRequest('intruder', nacl.randomBytes(32), cOldKey.secretKey)),
    CONNACK_INVITE_BEFORE_ROTATION, // refused, as made before the rotation
  );
  assert.equal(broker.running?.state.machine('intruder'), undefined);

  assert.equal(await a.drainOutbox(), 1);
  assert.equal(a.store.outbox.count(), 0);
  await a.publishOwnEntry();
  const b = await Presence.connect(homeB, broker.tlsUrl, t);
  await waitFor(() => b.inbox.length > 0, 'the network-key envelope reaches beta');
  const keysB = loadIdentity(homeB);
  const codec = new EnvelopeCodec(
    { me: 'beta', signSecretKey: keysB.sign.secretKey, boxKeyPair: keysB.box },
    b.store.machines,
  );
  const delivered = b.inbox[0] as { topic: string; payload: Uint8Array };
  assert.equal(delivered.topic, 'isaac/beta/msg');
  const env = codec.open(delivered.payload, 'beta', 'msg');
  assert.equal(env.type, 'network-key');
  assert.equal(env.from, 'alpha');
  const outcome = acceptNetworkKey(b.store, env);
  assert.equal(outcome.installed, true, JSON.stringify(outcome));
  assert.equal(loadIdentity(homeB).network, undefined, 'a member gets the public key, not the secret');
  assert.equal(
    verifyRosterEntry(loadNetworkSettings(b.store)?.rosterEntry as Uint8Array, newPk as Uint8Array, 'beta')
      .name,
    'beta',
    'beta’s own entry, re-signed with the new key by alpha',
  );
  assert.equal(hex(loadNetworkSettings(b.store)?.networkPk), hex(newPk));
  assert.equal(b.store.machines.get('gamma')?.revoked !== null, true);
  // a redelivery is harmless
  assert.deepEqual(acceptNetworkKey(b.store, env), {
    installed: false,
    refused: false,
    reason: 'already-installed',
  });

  // beta still trusts alpha's entry signed with the old key, but gamma's old key adds or re-keys nobody
  const alphaRow = b.store.machines.get('alpha');
  assert.ok(alphaRow?.sign_pk && alphaRow.box_pk && alphaRow.added !== null);
  const alphaOld = encodeRosterEntry(
    { name: 'alpha', signPk: alphaRow.sign_pk, boxPk: alphaRow.box_pk, added: alphaRow.added },
    cOldKey.secretKey,
  );
  assert.equal(verifyRosterEntryTrusted(b.store, alphaOld, 'alpha').name, 'alpha');
  const evil = nacl.sign.keyPair();
  const forged = [
    encodeRosterEntry(
      { name: 'evil', signPk: evil.publicKey, boxPk: evil.publicKey, added: Date.now() },
      cOldKey.secretKey,
    ),
    encodeRosterEntry(
      { name: 'alpha', signPk: evil.publicKey, boxPk: alphaRow.box_pk, added: alphaRow.added + 1 },
      cOldKey.secretKey,
    ),
    encodeRosterEntry(
      { name: 'gamma', signPk: evil.publicKey, boxPk: evil.publicKey, added: Date.now() },
      cOldKey.secretKey,
    ),
  ];
  for (const bytes of forged)
    assert.throws(() => verifyRosterEntryTrusted(b.store, bytes), /retired network key/);

  // alpha invites delta with the new key; delta joins (its grant is signed by the new key)
  const code = createInvite(homeA, 'delta');
  const joined = await joinNetwork({ home: join(root, 'delta'), code });
  assert.equal(joined.name, 'delta');
  assert.equal(broker.running?.state.machine('delta')?.revokedAt, null);
  await waitFor(
    () => !!b.store.machines.get('delta')?.sign_pk,
    'beta trusts delta’s entry signed with the new key',
  );
  // delta only knows the new key: it sees gamma revoked because the broker re-published the
  // revocation signed with it
  const d = await Presence.connect(join(root, 'delta'), broker.tlsUrl, t);
  await waitFor(
    () => !!d.store.machines.get('gamma')?.revoked && !!d.store.machines.get('alpha')?.sign_pk,
    'delta sees alpha (re-signed entry) and gamma revoked',
  );
  // members cannot invite; they are told which machines can
  assert.throws(() => createInvite(homeC, 'eps'), /only admin machines can invite; this machine is a member/);
});

test('a network-key envelope from a revoked, unknown or confused sender is refused and changes nothing', async (t) => {
  const { broker, root } = await network(t);
  const [homeA, homeB, homeC] = ['alpha', 'beta', 'gamma'].map((n) => join(root, n)) as [
    string,
    string,
    string,
  ];
  const b = await Presence.connect(homeB, broker.tlsUrl, t);
  await waitFor(
    () => ['alpha', 'gamma'].every((n) => b.store.machines.get(n)?.sign_pk),
    'beta knows alpha and gamma',
  );
  const before = loadNetworkSettings(b.store)?.networkPk as Uint8Array;
  const oldKey = loadIdentity(homeA).network as nacl.SignKeyPair;
  const unchanged = () => {
    assert.equal(loadIdentity(homeB).network, undefined);
    assert.equal(hex(loadNetworkSettings(b.store)?.networkPk), hex(before));
    assert.deepEqual(loadPreviousNetworkPks(b.store), []);
  };
  const fresh = nacl.sign.keyPair();
  const body: NetworkKeyMessage = {
    networkSeed: fresh.secretKey.slice(0, 32),
    networkPk: fresh.publicKey,
    previousPk: before,
    revoked: [],
  };

  // senders that are no member, or keys that do not add up, while gamma is still a member
  const unknown = acceptNetworkKey(b.store, { type: 'network-key', from: 'zeta', body });
  assert.equal(unknown.installed, false);
  assert.equal('reason' in unknown && unknown.reason, 'network-key-sender-not-member');
  unchanged();
  const self = acceptNetworkKey(b.store, { type: 'network-key', from: 'beta', body });
  assert.equal('reason' in self && self.reason, 'network-key-sender-not-member');
  // gamma is a member but no admin: it cannot hand out a network key
  const notAdmin = acceptNetworkKey(b.store, { type: 'network-key', from: 'gamma', body });
  assert.equal('reason' in notAdmin && notAdmin.reason, 'network-key-sender-not-admin');
  const mismatch = acceptNetworkKey(b.store, {
    type: 'network-key',
    from: 'alpha',
    body: { ...body, networkPk: nacl.sign.keyPair().publicKey },
  });
  assert.equal('reason' in mismatch && mismatch.reason, 'network-key-mismatch');
  const stale = acceptNetworkKey(b.store, {
    type: 'network-key',
    from: 'alpha',
    body: { ...body, previousPk: nacl.sign.keyPair().publicKey },
  });
  assert.equal('reason' in stale && stale.reason, 'network-key-not-from-current');
  const malformed = acceptNetworkKey(b.store, {
    type: 'network-key',
    from: 'alpha',
    body: { networkSeed: 'x' },
  });
  assert.equal('reason' in malformed && malformed.reason, 'network-key-malformed');
  unchanged();

  // alpha revokes gamma (no rotation); beta learns it from the retained revoked entry
  const out: string[] = [];
  const storeA = openStore(homeA);
  try {
    assert.equal(await runRevokeCommand(['gamma'], ctxFor(storeA, out, [false])), 1, 'no: not revoked');
    // yes to the revocation, no to the rotation
    assert.equal(await runRevokeCommand(['gamma'], ctxFor(storeA, out, [true, false])), 0);
  } finally {
    storeA.close();
  }
  await waitFor(() => b.store.machines.get('gamma')?.revoked !== null, 'beta sees gamma revoked');

  // gamma, revoked, seals a network-key envelope to beta with its real signing key
  const keysC = loadIdentity(homeC);
  const rowB = b.store.machines.get('beta');
  assert.ok(rowB?.box_pk);
  const sealed = sealEnvelope(
    { type: 'network-key', from: 'gamma', to: 'beta', body, ttlMs: 60_000 },
    keysC.sign.secretKey,
    new Uint8Array(rowB.box_pk),
  );
  const keysB = loadIdentity(homeB);
  const codec = new EnvelopeCodec(
    { me: 'beta', signSecretKey: keysB.sign.secretKey, boxKeyPair: keysB.box },
    b.store.machines,
  );
  assert.throws(() => codec.open(sealed.payload, 'beta', 'msg'), /unknown-sender/);
  const revoked = acceptNetworkKey(b.store, { type: 'network-key', from: 'gamma', body });
  assert.equal('reason' in revoked && revoked.reason, 'network-key-sender-revoked');
  unchanged();
  // gamma's old key is still the network key here (no rotation): the prompt said so
  assert.match(
    out.join(''),
    /network key not rotated; if gamma was an admin, run `isaac revoke gamma --rotate`/,
  );
  const oldKeyEnroll = () => inviteEnrollRequest('late', nacl.randomBytes(32), oldKey.secretKey);
  // until the rotation a copy of the key still works at the broker: this is what rotation is for
  assert.equal(await broker.admin(oldKeyEnroll()), 0);
  // the hint works: revoking again with --rotate rotates
  const again = openStore(homeA);
  try {
    assert.equal(await runRevokeCommand(['gamma', '--rotate'], ctxFor(again, out, [true])), 0);
  } finally {
    again.close();
  }
  assert.equal(await broker.admin(oldKeyEnroll()), CONNACK_INVITE_BEFORE_ROTATION);
});

test('a rotation interrupted after the broker and the key file moved is finished by the next one', async (t) => {
  const { broker, root } = await network(t);
  const homeA = join(root, 'alpha');
  const a = await Presence.connect(homeA, broker.tlsUrl, t);
  await waitFor(() => !!a.store.machines.get('beta')?.box_pk, 'alpha knows beta');
  const k0 = loadIdentity(homeA).network;
  assert.ok(k0);
  // what rotateNetworkKey did before "crashing": the broker took K1, the key file holds K1
  const k1 = nacl.sign.keyPair();
  assert.equal(await broker.admin(createRotateRequest('alpha', k0, k1)), 0);
  stageNetworkKey(homeA, k1);
  commitStagedNetworkKey(homeA);
  assert.equal(hex(loadNetworkSettings(a.store)?.networkPk), hex(k0.publicKey), 'settings still say K0');

  const result = await rotateNetworkKey(homeA);
  const k2 = loadIdentity(homeA).network?.publicKey;
  assert.equal(hex(result.newPk), hex(k2));
  assert.equal(hex(broker.running?.state.networkPk()), hex(k2));
  assert.deepEqual(loadPreviousNetworkPks(a.store).map(hex), [hex(k0.publicKey), hex(k1.publicKey)]);
  // beta gets K1 (from K0) and then K2 (from K1), in order
  const rows = a.store.outbox.pending().filter((r) => r.peer === 'beta' && r.kind === 'network-key');
  assert.equal(rows.length, 2);
  assert.equal(result.notified.join(','), 'beta,gamma');

  const b = await Presence.connect(join(root, 'beta'), broker.tlsUrl, t);
  await waitFor(() => !!b.store.machines.get('alpha')?.sign_pk, 'beta knows alpha');
  assert.equal(await a.drainOutbox(), 4);
  await waitFor(() => b.inbox.length === 2, 'both envelopes reach beta');
  const keysB = loadIdentity(join(root, 'beta'));
  const codec = new EnvelopeCodec(
    { me: 'beta', signSecretKey: keysB.sign.secretKey, boxKeyPair: keysB.box },
    b.store.machines,
  );
  for (const { payload } of b.inbox) {
    assert.equal(acceptNetworkKey(b.store, codec.open(payload, 'beta', 'msg')).installed, true);
  }
  assert.equal(hex(loadNetworkSettings(b.store)?.networkPk), hex(k2));
  assert.equal(loadIdentity(join(root, 'beta')).network, undefined);
});
