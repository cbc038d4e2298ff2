import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import nacl from 'tweetnacl';
import { initDataDir } from '../../broker/init.ts';
import { loadIdentity } from '../../node/core/crypto/keys.ts';
import { acceptRosterEntry } from '../../node/core/identity/trust.ts';
import { openStore } from '../../node/core/store/store.ts';
import { initNetwork, joinNetwork } from '../../node/daemon/identity/init.ts';
import { runRevokeCommand } from '../../node/shell/identity/commands.ts';
import { createInvite, revokeMachine } from '../../node/shell/identity/membership.ts';
import { createAdminRequest, createEnrollRequest } from '../../schemas/admin.ts';
import { AuthError, ConfigError, errorLine, UsageError } from '../../schemas/errors.ts';
import { createInviteGrant, decodeInvite, encodeInvite } from '../../schemas/invite.ts';
import { encodeInvitedRosterEntry } from '../../schemas/roster.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { captureIO } from '../helpers/capture-io.ts';
import { machineLogin } from '../helpers/node-procs.ts';
import { tempDir } from '../helpers/tmp.ts';

/**
 * A member turned attacker, against a real isaac-broker (in-process, TLS) and real machine homes:
 * what an invite holder or a member can try with the CLIs and raw MQTT/admin requests. Each
 * attack is refused, changes nothing, and leaves a log line and a counter. (Member-versus-member
 * history deletion runs against real nodes in test/daemon/sync/tombstones.test.ts.)
 */
const cleanups: (() => unknown)[] = [];
const suite = { after: (fn: () => unknown) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
let broker: TestBroker;
let root: string;
const home = (name: string) => join(root, name);

const adminRefusals = (reason: string) =>
  broker.logs().filter((l) => l.includes('admin request refused') && l.includes(`"reason":"${reason}"`));

async function connectAs(name: string): Promise<MqttClient> {
  const client = mqtt.connect(broker.tlsUrl, {
    ...machineLogin(home(name), broker.tlsUrl).options,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  return await new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

before(async () => {
  root = tempDir(suite, 'isaac-hostile-');
  const dataDir = join(root, 'data');
  const { setupToken } = initDataDir(dataDir);
  broker = await startTestBroker(suite, {
    reuse: { dataDir, networkKeys: nacl.sign.keyPair(), secrets: new Map() },
    // every attack here is a refused request from 127.0.0.1: the login throttle would answer the
    // later ones itself (test/broker/login-throttle.test.ts tries it)
    limits: { loginFreeFailures: 100 },
  });
  await initNetwork({
    home: home('alpha'),
    brokers: [broker.tlsUrl],
    fingerprint: broker.fingerprint,
    setupToken,
    name: 'alpha',
  });
  await joinNetwork({ home: home('beta'), code: createInvite(home('alpha'), 'beta') });
});

test('an invite used twice: the second join is refused with a clear line, the first machine keeps working', async () => {
  const code = createInvite(home('alpha'), 'tablet');
  const first = await joinNetwork({ home: home('tablet'), code });
  assert.equal(first.name, 'tablet');
  await assert.rejects(joinNetwork({ home: join(root, 'thief'), code }), (err: unknown) => {
    const line = errorLine(err);
    return (
      err instanceof AuthError &&
      /the broker refused the enrollment: an invite joins once, as its name, before it expires/.test(line) &&
      /ask an admin for a new invite/.test(line)
    );
  });
  assert.equal(adminRefusals('admin-name-taken').length, 1);
  // the first machine still logs in (no re-keying, no bad-mac)
  (await connectAs('tablet')).end(true);
  // even after tablet is revoked, the used code stays used (nonce consumed), it cannot re-enroll the name
  await revokeMachine(home('alpha'), 'tablet');
  await assert.rejects(joinNetwork({ home: join(root, 'thief2'), code }), AuthError);
  assert.equal(adminRefusals('admin-invite-used').length, 1);
  assert.equal(broker.running?.counters.refusalCount('admin-invite-used'), 1);
});

test('an expired code fails at the broker even when the joining CLI check is bypassed', async () => {
  const alphaNet = loadIdentity(home('alpha')).network as nacl.SignKeyPair;
  const settings = decodeInvite(createInvite(home('alpha'), 'late'));
  const { grant, inviteSeed } = createInviteGrant('late', alphaNet.secretKey, {
    expires: Date.now() - 1000,
    issued: Date.now() - 60_000,
  });
  const code = encodeInvite({ ...settings, grant, inviteSeed });
  // the CLI refuses it...
  await assert.rejects(joinNetwork({ home: join(root, 'late'), code }), /invite code expired at/);
  // ...and with the CLI's clock set back, the broker refuses it on its own clock
  await assert.rejects(
    joinNetwork({ home: join(root, 'late'), code, nowMs: Date.now() - 30_000 }),
    (err: unknown) => err instanceof AuthError && /refused the enrollment/.test(errorLine(err)),
  );
  assert.equal(adminRefusals('admin-invite-expired').length, 1);
  assert.equal(broker.running?.state.machine('late'), undefined);
});

test('a member holds no network key: it cannot invite, revoke, or enroll a machine with its own keys', async () => {
  assert.equal(loadIdentity(home('beta')).network, undefined);
  assert.throws(
    () => createInvite(home('beta'), 'evil'),
    (err: unknown) => err instanceof ConfigError && /only admin machines can invite/.test(errorLine(err)),
  );
  await assert.rejects(revokeMachine(home('beta'), 'alpha'), /only admin machines can revoke/);
  const store = openStore(home('beta'));
  try {
    const io = captureIO([true, true]);
    await assert.rejects(
      runRevokeCommand(['alpha'], { store, env: {}, assumeYes: true, io }),
      /only admin machines can revoke/,
    );
  } finally {
    store.close();
  }
  const beta = loadIdentity(home('beta'));
  const enrolled = () => broker.running?.state.machine('evil');
  // a raw enroll for a new name signed with beta's signing key, without and with a grant it made
  const raw = createAdminRequest(
    { op: 'enroll', name: 'evil', secret: new Uint8Array(randomBytes(32)) },
    beta.sign.secretKey,
  );
  assert.equal(await broker.admin(raw), 5);
  const selfMade = createInviteGrant('evil', beta.sign.secretKey, {
    expires: Date.now() + 60_000,
    issued: Date.now(),
  });
  const inviteKey = nacl.sign.keyPair.fromSeed(selfMade.inviteSeed).secretKey;
  assert.equal(
    await broker.admin(
      createEnrollRequest('evil', new Uint8Array(randomBytes(32)), selfMade.grant, inviteKey),
    ),
    5,
  );
  assert.equal(enrolled(), undefined);
  assert.ok(adminRefusals('admin-malformed').some((l) => l.includes('lacks an invite grant')));
  assert.ok(adminRefusals('admin-bad-invite').some((l) => l.includes('not signed by this network')));
  // nor can beta revoke alpha at the broker with its own key
  assert.equal(
    await broker.admin(createAdminRequest({ op: 'revoke', name: 'alpha' }, beta.sign.secretKey)),
    5,
  );
  (await connectAs('alpha')).end(true);
});

test('an invite for a live name cannot take it over, and members accept one enrollment per invite', async () => {
  const alphaNet = loadIdentity(home('alpha')).network as nacl.SignKeyPair;
  // an admin-signed grant for beta, a live member (`isaac invite` refuses names its roster knows)
  const { grant, inviteSeed } = createInviteGrant('beta', alphaNet.secretKey, {
    expires: Date.now() + 60_000,
    issued: Date.now(),
  });
  const inviteKey = nacl.sign.keyPair.fromSeed(inviteSeed);
  assert.equal(
    await broker.admin(
      createEnrollRequest('beta', new Uint8Array(randomBytes(32)), grant, inviteKey.secretKey),
    ),
    5,
  );
  assert.ok(adminRefusals('admin-name-taken').some((l) => l.includes('"name":"beta"')));
  (await connectAs('beta')).end(true);

  // a broker that let a second machine through with a used invite: alpha's roster refuses it
  const store = openStore(home('alpha'));
  try {
    const grantFor = createInviteGrant('gadget', alphaNet.secretKey, {
      expires: Date.now() + 60_000,
      issued: Date.now(),
    });
    const key = nacl.sign.keyPair.fromSeed(grantFor.inviteSeed).secretKey;
    const entryOf = (m: nacl.SignKeyPair, added: number) =>
      encodeInvitedRosterEntry(
        { name: 'gadget', signPk: m.publicKey, boxPk: m.publicKey, added },
        key,
        grantFor.grant,
      );
    const first = nacl.sign.keyPair();
    const verdict = acceptRosterEntry(store, 'gadget', entryOf(first, Date.now()));
    assert.equal(verdict.ok, true);
    if (verdict.ok) store.machines.applyRoster(verdict.update);
    const second = acceptRosterEntry(store, 'gadget', entryOf(nacl.sign.keyPair(), Date.now() + 1000));
    assert.deepEqual(second.ok ? 'accepted' : second.reason, 'invite-reused');
    assert.equal(
      Buffer.from(store.machines.get('gadget')?.sign_pk as Uint8Array).equals(Buffer.from(first.publicKey)),
      true,
    );
    // a member's roster refuses a machine named like a topic level
    const bad = acceptRosterEntry(store, 'roster', new Uint8Array([0x82, 0x40, 0x40]));
    assert.equal(bad.ok, false);
  } finally {
    store.close();
  }
  assert.throws(
    () => createInvite(home('alpha'), 'roster'),
    (err: unknown) => err instanceof UsageError && /"roster" is a reserved topic level/.test(errorLine(err)),
  );
});
