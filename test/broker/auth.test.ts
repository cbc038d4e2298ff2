import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import test from 'node:test';
import nacl from 'tweetnacl';
import { createAdminRequest } from '../../schemas/admin.ts';
import { encodeRosterEntry } from '../../schemas/roster.ts';
import { mintToken } from '../../schemas/token.ts';
import { inviteEnrollRequest, startTestBroker } from '../helpers/broker.ts';
import { waitFor } from '../helpers/tmp.ts';

/** Resolves with the next message on `topic` (or undefined after ms). */
function nextMessage(client: import('mqtt').MqttClient, ms = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    client.once('message', (topic, payload) => {
      clearTimeout(timer);
      resolve(`${topic} ${payload.toString()}`);
    });
  });
}

test('broker logins: every bad credential is refused with its CONNACK code (5 only for a revoked machine), a log line and a counter', async (t) => {
  // a dozen bad logins from one address in a row: the throttle (test/broker/login-throttle.test.ts)
  // would answer the later ones itself
  const broker = await startTestBroker(t, {
    machines: ['alpha', 'beta', 'gone'],
    limits: { loginFreeFailures: 100 },
  });
  const running = broker.running;
  assert.ok(running);
  // a legitimate pair keeps talking throughout
  const beta = await broker.connect('beta');
  await beta.subscribeAsync('isaac/beta/msg', { qos: 1 });
  await broker.revoke('gone');

  const alphaSecret = broker.secrets.get('alpha') as Uint8Array;
  const now = Date.now();
  const reused = broker.token('alpha');
  await broker.connect('alpha', { token: reused }).then((c) => c.endAsync());

  const cases: {
    what: string;
    name: string;
    reason: string;
    options: Parameters<typeof broker.tryConnect>[1];
  }[] = [
    {
      what: 'unknown machine',
      name: 'stranger',
      reason: 'unknown-machine',
      options: { token: mintToken('stranger', randomBytes(32)) },
    },
    {
      what: 'revoked machine',
      name: 'gone',
      reason: 'revoked',
      options: { token: mintToken('gone', randomBytes(32)) },
    },
    {
      what: 'bad HMAC',
      name: 'alpha',
      reason: 'bad-mac',
      options: { token: mintToken('alpha', randomBytes(32)) },
    },
    {
      what: 'token for another name',
      name: 'alpha',
      reason: 'bad-mac',
      options: { token: mintToken('beta', broker.secrets.get('beta') as Uint8Array) },
    },
    {
      what: 'expired',
      name: 'alpha',
      reason: 'expired',
      options: { token: mintToken('alpha', alphaSecret, { nowMs: now - 600_000 }) },
    },
    {
      what: 'far-future expiry',
      name: 'alpha',
      reason: 'far-future',
      options: { token: mintToken('alpha', alphaSecret, { ttlSeconds: 3600 }) },
    },
    { what: 'reused nonce', name: 'alpha', reason: 'replayed-nonce', options: { token: reused } },
    { what: 'malformed token', name: 'alpha', reason: 'malformed', options: { token: 'v1.123.abc' } },
    {
      what: 'client id is not the username',
      name: 'alpha',
      reason: 'client-id-mismatch',
      options: { clientId: 'beta' },
    },
    { what: 'no password', name: 'alpha', reason: 'no-credentials', options: { token: '' } },
  ];
  for (const c of cases) {
    const before = running.counters.refusalCount(c.reason);
    const { code } = await broker.tryConnect(c.name, c.options);
    const expected = c.reason === 'revoked' ? 5 : c.reason === 'client-id-mismatch' ? 2 : 4;
    assert.equal(code, expected, `${c.what}: CONNACK`);
    assert.equal(running.counters.refusalCount(c.reason), before + 1, `${c.what}: counter ${c.reason}`);
    assert.ok(
      broker.logs().some((l) => l.includes('"login refused"') && l.includes(`"reason":"${c.reason}"`)),
      `${c.what}: log line`,
    );
  }
  // the client-id mismatch attempt must not have taken over beta's session
  const alpha = await broker.connect('alpha');
  const got = nextMessage(beta);
  await alpha.publishAsync('isaac/beta/msg', 'still here', { qos: 1 });
  assert.equal(await got, 'isaac/beta/msg still here');
  assert.deepEqual(running.status().connected, ['alpha', 'beta']);
});

test('broker admin: bind needs the setup token once; enroll/revoke need the bound network key', async (t) => {
  const broker = await startTestBroker(t, { limits: { loginFreeFailures: 100 } });
  const net = broker.networkKeys;
  const other = nacl.sign.keyPair();
  const secret = () => new Uint8Array(randomBytes(32));

  // enroll before anything is bound
  assert.equal(await broker.admin(inviteEnrollRequest('early', secret(), net.secretKey)), 5);
  // bind with a wrong setup token, then with a signature by a key other than the one bound
  const badToken = createAdminRequest(
    { op: 'bind', name: 'first', secret: secret(), networkPk: net.publicKey, setupToken: 'wrong' },
    net.secretKey,
  );
  assert.equal(await broker.admin(badToken), 5);
  await broker.enroll('first'); // binds with the real setup token
  assert.ok(broker.running?.state.networkPk());
  // a second bind (setup token consumed) is refused
  const rebind = createAdminRequest(
    { op: 'bind', name: 'evil', secret: secret(), networkPk: other.publicKey, setupToken: 'anything' },
    other.secretKey,
  );
  assert.equal(await broker.admin(rebind), 5);

  // enroll without an invite, even signed by the network key, or with an invite signed by another key
  assert.equal(
    await broker.admin(
      createAdminRequest({ op: 'enroll', name: 'intruder', secret: secret() }, net.secretKey),
    ),
    5,
  );
  assert.equal(await broker.admin(inviteEnrollRequest('intruder', secret(), other.secretKey)), 5);
  assert.equal(broker.running?.state.machine('intruder'), undefined);
  assert.equal((await broker.tryConnect('intruder', { token: mintToken('intruder', secret()) })).code, 4);

  // a good enroll works and cannot be replayed
  const s = secret();
  const enroll = inviteEnrollRequest('second', s, net.secretKey);
  assert.equal(await broker.admin(enroll), 0);
  assert.equal(await broker.admin(enroll), 5);
  broker.secrets.set('second', s);
  const second = await broker.connect('second');
  assert.ok(second.connected);

  // stale request, garbage request, wrong admin client id
  assert.equal(
    await broker.admin(
      inviteEnrollRequest('late', secret(), net.secretKey, {
        nowMs: Date.now() - 3_600_000,
        expires: Date.now() + 60_000,
      }),
    ),
    5,
  );
  assert.equal(await broker.admin(new Uint8Array(randomBytes(200))), 5);

  // revoke signed by another key: nothing changes, the machine stays connected
  assert.equal(await broker.admin(createAdminRequest({ op: 'revoke', name: 'second' }, other.secretKey)), 5);
  assert.ok(second.connected);
  assert.equal(broker.running?.state.machine('second')?.revokedAt, null);

  // a correctly signed revoke carrying a roster entry forged with another key: refused, nothing changes
  const forgedEntry = encodeRosterEntry(
    { name: 'second', signPk: new Uint8Array(32), boxPk: new Uint8Array(32), added: 1, revoked: Date.now() },
    other.secretKey,
  );
  assert.equal(
    await broker.admin(
      createAdminRequest({ op: 'revoke', name: 'second', rosterEntry: forgedEntry }, net.secretKey),
    ),
    5,
  );
  assert.ok(second.connected);
  assert.equal(broker.running?.state.machine('second')?.revokedAt, null);
  assert.ok((broker.running?.counters.refusals.get('admin-bad-roster-entry') ?? 0) >= 1);

  const reasons = broker.running?.counters.refusals;
  for (const r of [
    'admin-not-bound',
    'admin-bad-setup-token',
    'admin-already-bound',
    'admin-bad-signature',
    'admin-replayed-nonce',
    'admin-skew',
    'admin-malformed',
  ]) {
    assert.ok((reasons?.get(r) ?? 0) >= 1, `counted ${r}`);
  }
});

test('broker revoke kicks the live session at once and drops its queued messages', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha', 'beta', 'gamma'] });
  const alpha = await broker.connect('alpha');
  const gamma = await broker.connect('gamma');
  const gammaClosed = new Promise<void>((r) => gamma.once('close', () => r()));
  await broker.revoke('gamma');
  await gammaClosed;
  assert.equal((await broker.tryConnect('gamma')).code, 5);
  assert.ok(broker.logs().some((l) => l.includes('"revoked machine evicted"') && l.includes('"gamma"')));

  // beta is offline with three queued messages when it is revoked
  const beta = await broker.connect('beta');
  await beta.subscribeAsync('isaac/beta/exec', { qos: 1 });
  await beta.endAsync();
  for (let i = 0; i < 3; i++) await alpha.publishAsync('isaac/beta/exec', `queued ${i}`, { qos: 1 });
  await waitFor(() => broker.running?.status().queueDepth.beta === 3, 'three queued for beta');
  await broker.revoke('beta');
  await waitFor(() => broker.running?.status().queueDepth.beta === undefined, 'queue dropped');
  await alpha.publishAsync('isaac/beta/exec', 'while revoked', { qos: 1 });

  // re-enrolled, beta resumes its session id but nothing from before arrives
  await broker.enroll('beta');
  const back = await broker.connect('beta');
  assert.equal(await nextMessage(back, 800), undefined, 'no message survives the revoke');
  assert.ok(alpha.connected, 'the other machine was not disturbed');
});

test('broker offline queue is bounded: a full queue drops, logs and counts', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha', 'beta'], limits: { maxQueued: 5 } });
  const beta = await broker.connect('beta');
  await beta.subscribeAsync('isaac/beta/msg', { qos: 1 });
  await beta.endAsync();
  const alpha = await broker.connect('alpha');
  for (let i = 0; i < 8; i++) await alpha.publishAsync('isaac/beta/msg', `m${i}`, { qos: 1 });
  assert.equal(broker.running?.counters.refusalCount('queue-full'), 3);
  assert.ok(broker.logs().some((l) => l.includes('"reason":"queue-full"') && l.includes('"machine":"beta"')));
  const received: string[] = [];
  const back = await broker.connect('beta', {});
  back.on('message', (_topic, payload) => received.push(payload.toString()));
  await waitFor(() => received.length >= 5, 'five queued messages');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(received, ['m0', 'm1', 'm2', 'm3', 'm4']);
});

test('broker refuses a login whose will would publish where the machine may not', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha', 'beta'] });
  const forged = {
    will: {
      topic: 'isaac/beta/status',
      payload: Buffer.from('{"state":"offline"}'),
      qos: 1 as const,
      retain: true,
    },
  };
  assert.equal((await broker.tryConnect('alpha', forged)).code, 5);
  assert.equal(broker.running?.counters.refusalCount('bad-will'), 1);
  const own = {
    will: {
      topic: 'isaac/alpha/status',
      payload: Buffer.from('{"state":"offline"}'),
      qos: 1 as const,
      retain: true,
    },
  };
  assert.equal((await broker.tryConnect('alpha', own)).code, 0);
});
