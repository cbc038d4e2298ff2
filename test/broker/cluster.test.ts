/**
 * Cluster mode against the Redis on this machine: two real `isaac-broker start --redis` processes
 * serve one network. Each has its own data dir holding only the same TLS cert/key; machines, the
 * network key and used nonces live in Redis, so an enroll, a revoke or a spent token at one broker
 * counts at the other at once. A (on broker 1) and B (on broker 2) exchange messages; broker 1 is
 * SIGKILLed mid-stream; A fails over to broker 2 and nothing acknowledged is lost.
 * Each run uses its own Redis key/channel prefix and deletes its keys afterwards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import nacl from 'tweetnacl';
import { clearRedisPrefix, clusterBackends, parseRedisUrl } from '../../broker/cluster.ts';
import { initDataDir } from '../../broker/init.ts';
import { createRedisStateStore } from '../../broker/state-redis.ts';
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../../broker/tls.ts';
import {
  CONNACK_INVITE_BEFORE_ROTATION,
  createAdminRequest,
  createEnrollRequest,
  createRotateRequest,
} from '../../schemas/admin.ts';
import { createInviteGrant } from '../../schemas/invite.ts';
import {
  inviteEnrollRequest,
  startTestBroker,
  type TestBroker,
  type TestBrokerOptions,
} from '../helpers/broker.ts';
import { tempDir, waitFor } from '../helpers/tmp.ts';

const REDIS = 'redis://127.0.0.1:6379';
const BIN = resolve(import.meta.dirname, '../../broker/isaac-broker.mjs');
const run = promisify(execFile);
const LIMITS = { publishRate: 10_000, publishBurst: 10_000 };

interface Msg {
  from: string;
  n: number;
}

function machine(
  t: { after(fn: () => unknown): void },
  name: string,
  brokers: TestBroker[],
  inbox: Msg[],
  extra: IClientOptions = {},
): Promise<MqttClient> {
  const [first] = brokers;
  if (!first) throw new Error('no broker');
  const client = mqtt.connect({
    servers: brokers.map((b) => ({ host: '127.0.0.1', port: b.ports.tcp ?? 0 })),
    clientId: name,
    username: name,
    password: first.token(name),
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 200,
    connectTimeout: 3000,
    ...extra,
  });
  // tokens are single-use: a node mints a fresh one for every (re)connect
  client.on('reconnect', () => {
    client.options.password = first.token(name);
  });
  client.on('error', () => undefined);
  client.on('message', (_topic, payload) => inbox.push(JSON.parse(payload.toString()) as Msg));
  t.after(() => client.end(true));
  return new Promise((resolve) => client.once('connect', () => resolve(client)));
}

/** Publishes `count` numbered messages; resolves with the numbers the broker acknowledged. */
function publishNumbered(
  client: MqttClient,
  from: string,
  topic: string,
  count: number,
  onAck?: (n: number) => void,
) {
  const acked: number[] = [];
  const all = Promise.all(
    Array.from(
      { length: count },
      (_, n) =>
        new Promise<void>((resolve) => {
          client.publish(topic, JSON.stringify({ from, n }), { qos: 1 }, (err) => {
            if (!err) {
              acked.push(n);
              onAck?.(n);
            }
            resolve();
          });
        }),
    ),
  );
  return { acked, all };
}

type TestCtx = Parameters<typeof startTestBroker>[0];

/**
 * Broker 1 from `isaac-broker init` (it seeds Redis with the setup token), broker 2 from a data
 * dir with nothing but a copy of broker 1's TLS cert and key; both on one fresh Redis prefix.
 */
async function twoBrokers(t: TestCtx, machines: string[], reuse1?: TestBrokerOptions['reuse']) {
  const prefix = `isaac-test-${randomBytes(6).toString('hex')}:`;
  const args = ['--redis', `${REDIS}/0?prefix=${prefix}`];
  const started: TestBroker[] = [];
  // after-hooks run in order: stop both brokers (idempotent) before their keys are deleted
  t.after(async () => {
    for (const broker of started) await broker.kill();
    await clearRedisPrefix(REDIS, prefix);
  });
  const broker1 = await startTestBroker(t, { process: true, machines, reuse: reuse1, args, limits: LIMITS });
  started.push(broker1);
  const dir2 = join(tempDir(t), 'data');
  mkdirSync(dir2, { mode: 0o700 });
  for (const file of [TLS_CERT_FILE, TLS_KEY_FILE])
    copyFileSync(join(broker1.dataDir, file), join(dir2, file));
  const reuse = { dataDir: dir2, networkKeys: broker1.networkKeys, secrets: broker1.secrets };
  const broker2 = await startTestBroker(t, { process: true, reuse, args, limits: LIMITS });
  started.push(broker2);
  assert.equal(broker2.fingerprint, broker1.fingerprint, 'one certificate behind one address');
  return { broker1, broker2, redisUrl: `${REDIS}/0?prefix=${prefix}` };
}

const refusals = (broker: TestBroker, reason: string) =>
  broker.logs().filter((l) => l.includes('login refused') && l.includes(`"reason":"${reason}"`)).length;

const closed = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));

const numbersFrom = (inbox: Msg[], from: string) =>
  new Set(inbox.filter((m) => m.from === from).map((m) => m.n));

test('cluster URLs: a per-network prefix is split off, anything but redis:// is refused', () => {
  assert.deepEqual(parseRedisUrl('redis://nas:6379/2?prefix=home:'), {
    url: 'redis://nas:6379/2',
    prefix: 'home:',
  });
  assert.equal(parseRedisUrl('redis://nas').prefix, 'isaac:');
  assert.throws(() => parseRedisUrl('http://nas:6379'), /redis:\/\//);
  assert.throws(() => parseRedisUrl('redis://nas?prefix=a*'), /prefix/);
  assert.throws(() => parseRedisUrl('not a url'), /not a URL/);
});

test('cluster mode refuses to start when Redis cannot be reached', async () => {
  await assert.rejects(
    clusterBackends('redis://127.0.0.1:1/0?prefix=isaac-test-none:'),
    /cannot reach Redis/,
  );
});

test('cluster state: enrolled at broker 1, in at broker 2; revoked at broker 2, out everywhere at once', async (t) => {
  const { broker1, broker2 } = await twoBrokers(t, ['a']);

  // bound and enrolled through broker 1 (a), and c enrolled while broker 2 already runs
  await (await broker2.connect('a')).endAsync();
  await broker1.enroll('c');
  await (await broker2.connect('c')).endAsync();
  const c = await broker1.connect('c');

  // an enroll signed by another key, sent to broker 2, changes nothing at broker 1 either
  const intruder = await startTestBroker(t, { machines: ['x'] });
  const forged = inviteEnrollRequest(
    'x',
    intruder.secrets.get('x') as Uint8Array,
    intruder.networkKeys.secretKey,
  );
  assert.equal(await broker2.admin(forged), 5);
  assert.equal((await broker1.tryConnect('x', { token: intruder.token('x') })).code, 4);

  // revoked through broker 2: c's live session on broker 1 ends at once
  const gone = closed(c);
  const revokedAt = Date.now();
  await broker2.revoke('c');
  await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 3000))]);
  assert.equal(c.connected, false, "c's session on broker 1 was closed");
  assert.ok(Date.now() - revokedAt < 3000, 'the session closed right after the revoke');
  for (const broker of [broker1, broker2]) {
    const { code } = await broker.tryConnect('c');
    assert.equal(code, 5, 'a revoked machine is refused at every broker');
  }
  await waitFor(() => refusals(broker1, 'revoked') === 1 && refusals(broker2, 'revoked') === 1, 'logged');
  // the other machine is unaffected
  await (await broker1.connect('a')).endAsync();
});

test('cluster nonces: a token spent at broker 1 is refused as replayed at broker 2', async (t) => {
  const { broker1, broker2 } = await twoBrokers(t, ['a']);
  const token = broker1.token('a');
  const first = await broker1.connect('a', { token });
  await first.endAsync();
  assert.equal((await broker2.tryConnect('a', { token })).code, 4);
  assert.equal((await broker1.tryConnect('a', { token })).code, 4);
  await waitFor(() => refusals(broker2, 'replayed-nonce') === 1, 'replay logged at broker 2');
  // a fresh token still works at either broker
  await (await broker2.connect('a')).endAsync();
});

test('cluster bind: two binds with the one setup token at two brokers at once, exactly one wins everywhere', async (t) => {
  const dataDir = join(tempDir(t), 'data');
  const { setupToken } = initDataDir(dataDir);
  const keys = [nacl.sign.keyPair(), nacl.sign.keyPair()] as const;
  const { broker1, broker2 } = await twoBrokers(t, [], { dataDir, networkKeys: keys[0], secrets: new Map() });
  const bind = (k: nacl.SignKeyPair, name: string) =>
    createAdminRequest(
      { op: 'bind', name, secret: new Uint8Array(randomBytes(32)), networkPk: k.publicKey, setupToken },
      k.secretKey,
    );
  const codes = await Promise.all([broker1.admin(bind(keys[0], 'm0')), broker2.admin(bind(keys[1], 'm1'))]);
  assert.equal(codes.filter((c) => c === 0).length, 1, `one bind applied: ${codes}`);
  const winner = codes[0] === 0 ? 0 : 1;
  const enroll = (k: nacl.SignKeyPair, name: string) =>
    inviteEnrollRequest(name, new Uint8Array(randomBytes(32)), k.secretKey);
  for (const [i, broker] of [broker1, broker2].entries()) {
    assert.equal(
      await broker.admin(enroll(keys[1 - winner] as nacl.SignKeyPair, `z${i}`)),
      5,
      "the loser's key binds nothing",
    );
    assert.equal(
      await broker.admin(enroll(keys[winner] as nacl.SignKeyPair, `z${i}`)),
      0,
      "the winner's key is bound at both",
    );
  }
  // the token is spent for the cluster, also a third try through either broker
  assert.equal(await broker2.admin(bind(nacl.sign.keyPair(), 'm2')), 5);
});

/** A TCP proxy in front of the local Redis that the test can cut and restore on the same port. */
async function redisProxy(t: TestCtx) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const up = () =>
    new Promise<void>((resolveUp, reject) => {
      const listening = createServer((inbound) => {
        const outbound = tcpConnect(6379, '127.0.0.1');
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => {
            sockets.delete(s);
            inbound.destroy();
            outbound.destroy();
          });
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      server = listening;
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as { port: number }).port;
        resolveUp();
      });
    });
  const down = () =>
    new Promise<void>((resolveDown) => {
      for (const s of sockets) s.destroy();
      if (server) server.close(() => resolveDown());
      else resolveDown();
    });
  await up();
  t.after(down);
  return { port: () => port, up, down };
}

test('cluster state fails closed: while Redis is unreachable nobody logs in, afterwards logins work again', async (t) => {
  const prefix = `isaac-test-${randomBytes(6).toString('hex')}:`;
  const proxy = await redisProxy(t);
  const broker = await startTestBroker(t, {
    machines: ['a'],
    stateStore: ({ local }) =>
      createRedisStateStore({ url: `redis://127.0.0.1:${proxy.port()}/0`, prefix, seed: local.snapshot() }),
  });
  t.after(() => clearRedisPrefix(REDIS, prefix));
  await (await broker.connect('a')).endAsync();

  await proxy.down();
  const { code } = await broker.tryConnect('a');
  assert.equal(code, 3, 'refused while the state cannot be read (server unavailable: try later)');
  assert.ok(broker.logs().some((l) => l.includes('"reason":"state-unavailable"')));

  await proxy.up();
  await waitFor(async () => (await broker.tryConnect('a')).code === 0, 'a logs in again', 15_000);

  // after the outage the broker is subscribed to revocation notices again: one from another broker evicts `a`
  const a = await broker.connect('a');
  const closed = new Promise<void>((r) => a.once('close', () => r()));
  const publisher = new Redis(REDIS);
  t.after(() => publisher.disconnect());
  await waitFor(
    async () => {
      await publisher.publish(
        `${prefix}state:revoked`,
        JSON.stringify({ name: 'a', from: 'another-broker' }),
      );
      return broker.logs().some((l) => l.includes('revoked at another broker of the cluster'));
    },
    'the revocation notice after the outage',
    15_000,
  );
  await closed;
});

test('a broker that ran alone joins a cluster with its machines; an observer added with --redis logs in anywhere', async (t) => {
  const solo = await startTestBroker(t, { machines: ['a'] });
  await solo.stop();
  const { broker1, broker2, redisUrl } = await twoBrokers(t, [], {
    dataDir: solo.dataDir,
    networkKeys: solo.networkKeys,
    secrets: solo.secrets,
  });
  await (await broker2.connect('a')).endAsync();
  await (await broker1.connect('a')).endAsync();

  const added = await run(process.execPath, [
    BIN,
    'observer',
    'add',
    'ha',
    '--data',
    broker2.dataDir,
    '--redis',
    redisUrl,
  ]);
  const password = /password (\S+)/.exec(added.stdout)?.[1];
  assert.ok(password, added.stdout);
  const listed = await run(process.execPath, [
    BIN,
    'observer',
    'list',
    '--data',
    broker1.dataDir,
    '--redis',
    redisUrl,
  ]);
  assert.equal(listed.stdout.trim(), 'ha');
  for (const broker of [broker1, broker2]) {
    const ok = await broker.tryConnect('ha', { token: password, clientId: 'ha-dash' });
    assert.equal(ok.code, 0, 'observer accepted');
    ok.client.end(true);
    const bad = await broker.tryConnect('ha', { token: 'wrong', clientId: 'ha-dash' });
    assert.equal(bad.code, 4, 'observer with a wrong password refused');
  }
  // without --redis the observer is not in this data dir's local state
  const local = await run(process.execPath, [BIN, 'observer', 'list', '--data', broker2.dataDir]);
  assert.equal(local.stdout.trim(), '(no observers)');
});

test('two brokers on one Redis: A and B exchange messages, A fails over when its broker is killed', async (t) => {
  const { broker1, broker2 } = await twoBrokers(t, ['a', 'b']);

  const inboxA: Msg[] = [];
  const inboxB: Msg[] = [];
  const a = await machine(t, 'a', [broker1, broker2], inboxA);
  const b = await machine(t, 'b', [broker2], inboxB);
  await a.subscribeAsync('isaac/a/msg', { qos: 1 });
  await b.subscribeAsync('isaac/b/msg', { qos: 1 });

  // across the two brokers, both ways
  await publishNumbered(a, 'a', 'isaac/b/msg', 50).all;
  await publishNumbered(b, 'b', 'isaac/a/msg', 50).all;
  await waitFor(
    () => numbersFrom(inboxB, 'a').size === 50 && numbersFrom(inboxA, 'b').size === 50,
    'exchange',
  );

  // broker 1 dies while both stream at each other
  let killed = false;
  const killAfter = (n: number) => {
    if (!killed && n >= 40) {
      killed = true;
      broker1.child?.kill('SIGKILL');
    }
  };
  const fromA = publishNumbered(a, 'a2', 'isaac/b/msg', 200, (n) => killAfter(n));
  const fromB = publishNumbered(b, 'b2', 'isaac/a/msg', 200);
  await fromB.all;
  await waitFor(() => killed, 'broker 1 killed', 20_000);
  await waitFor(
    () => a.connected && (a.options.port as number) === broker2.ports.tcp,
    'A on broker 2',
    20_000,
  );
  await fromA.all;

  await waitFor(
    () => numbersFrom(inboxA, 'b2').size === 200 && numbersFrom(inboxB, 'a2').size === 200,
    'every message after failover',
    30_000,
  ).catch(() => undefined);
  const gotA = numbersFrom(inboxA, 'b2');
  const gotB = numbersFrom(inboxB, 'a2');
  assert.deepEqual(
    fromB.acked.filter((n) => !gotA.has(n)),
    [],
    'every message broker 2 acknowledged for A reached A after its failover',
  );
  assert.deepEqual(
    fromA.acked.filter((n) => !gotB.has(n)),
    [],
    'every message A had acknowledged by either broker reached B',
  );
  assert.equal(gotB.size, 200, "A's unacknowledged messages were resent through broker 2");
});

test('cluster invites: one invite sent to both brokers at once enrolls exactly once', async (t) => {
  const { broker1, broker2 } = await twoBrokers(t, ['a']);
  const { grant, inviteSeed } = createInviteGrant('tablet', broker1.networkKeys.secretKey, {
    expires: Date.now() + 60_000,
    issued: Date.now(),
  });
  const inviteKey = nacl.sign.keyPair.fromSeed(inviteSeed).secretKey;
  const secrets = [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))];
  const codes = await Promise.all([
    broker1.admin(createEnrollRequest('tablet', secrets[0] as Uint8Array, grant, inviteKey)),
    broker2.admin(createEnrollRequest('tablet', secrets[1] as Uint8Array, grant, inviteKey)),
  ]);
  assert.deepEqual([...codes].sort(), [0, 5], `one enrollment applied: ${codes}`);
  const winner = codes[0] === 0 ? 0 : 1;
  broker1.secrets.set('tablet', secrets[winner] as Uint8Array);
  await (await broker2.connect('tablet')).endAsync();
  const refusedAt = [broker1, broker2][1 - winner] as TestBroker;
  const adminRefused = refusedAt.logs().filter((l) => l.includes('admin request refused'));
  assert.equal(adminRefused.length, 1, adminRefused.join('\n'));
  assert.match(adminRefused[0] as string, /"reason":"admin-(invite-used|name-taken)"/);
});

test('cluster rotation: rotated at broker 1, an invite from before it is refused at broker 2 as made before the rotation', async (t) => {
  const { broker1, broker2 } = await twoBrokers(t, ['a']);
  const old = broker1.networkKeys;
  const next = nacl.sign.keyPair();
  const before = inviteEnrollRequest('tablet', new Uint8Array(randomBytes(32)), old.secretKey);
  assert.equal(await broker1.admin(createRotateRequest('a', old, next)), 0);
  assert.equal(await broker2.admin(before), CONNACK_INVITE_BEFORE_ROTATION);
  const refused = broker2.logs().filter((l) => l.includes('"reason":"admin-invite-old-key"'));
  assert.equal(refused.length, 1, broker2.logs().join('\n'));
  // a key neither broker ever had is the ordinary refusal; an invite of the new key enrolls
  const stranger = inviteEnrollRequest(
    'tablet',
    new Uint8Array(randomBytes(32)),
    nacl.sign.keyPair().secretKey,
  );
  assert.equal(await broker2.admin(stranger), 5);
  assert.equal(
    await broker2.admin(inviteEnrollRequest('tablet', new Uint8Array(randomBytes(32)), next.secretKey)),
    0,
  );
});
