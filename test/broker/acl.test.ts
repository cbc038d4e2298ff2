import assert from 'node:assert/strict';
import test from 'node:test';
import type { MqttClient } from 'mqtt';
import { type ConnectOptions, startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { waitFor } from '../helpers/tmp.ts';

function collect(client: MqttClient): string[] {
  const seen: string[] = [];
  client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString().slice(0, 40)}`));
  return seen;
}

/** The SUBACK return code for one subscription (128 = refused). */
async function subackCode(client: MqttClient, topic: string): Promise<number | undefined> {
  try {
    const granted = await client.subscribeAsync(topic, { qos: 1 });
    return granted[0]?.qos;
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    return packet?.granted?.[0];
  }
}

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

/** Publishes as `name` on a fresh connection; resolves true if the broker cut the connection. */
async function publishIsRefused(
  broker: TestBroker,
  name: string,
  topic: string,
  payload: string | Buffer,
  retain = false,
  options: ConnectOptions = {},
): Promise<boolean> {
  const client = await broker.connect(name, { clean: true, ...options });
  const closed = new Promise<boolean>((r) => {
    client.once('close', () => r(true));
    setTimeout(() => r(false), 1500);
  });
  client.publish(topic, payload, { qos: 1, retain });
  const refused = await closed;
  client.end(true);
  return refused;
}

test('broker ACL: subscriptions outside the machine’s own inboxes and the shared topics are refused', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha', 'beta', 'gamma'] });
  const alpha = await broker.connect('alpha');
  const alphaSeen = collect(alpha);
  const beta = await broker.connect('beta');
  const betaSeen = collect(beta);
  await beta.subscribeAsync('isaac/beta/exec', { qos: 1 });

  const refused = [
    'isaac/beta/exec',
    'isaac/beta/msg',
    '#',
    'isaac/#',
    'isaac/+/exec',
    'isaac/+/+',
    '+/beta/exec',
    '$SYS/#',
    'homeassistant/#',
    'isaac/roster/#',
  ];
  for (const topic of refused) {
    assert.equal(await subackCode(alpha, topic), 128, `subscribe ${topic} refused`);
  }
  const allowed = [
    'isaac/alpha/exec',
    'isaac/alpha/msg',
    'isaac/alpha/history',
    'isaac/alpha/reply',
    'isaac/+/status',
    'isaac/roster/+',
    'isaac/beta/status',
    'homeassistant/status',
  ];
  for (const topic of allowed) {
    assert.equal(await subackCode(alpha, topic), 1, `subscribe ${topic} allowed`);
  }
  assert.ok(alpha.connected, 'a refused subscription does not cost the connection');

  const gamma = await broker.connect('gamma');
  await gamma.publishAsync('isaac/beta/exec', 'for beta only', { qos: 1 });
  await gamma.publishAsync('isaac/alpha/msg', 'for alpha', { qos: 1 });
  await waitFor(() => betaSeen.length === 1 && alphaSeen.length === 1, 'deliveries');
  await settle();
  assert.deepEqual(betaSeen, ['isaac/beta/exec for beta only']);
  assert.deepEqual(alphaSeen, ['isaac/alpha/msg for alpha']);
  assert.equal(broker.running?.counters.refusalCount('subscribe-denied'), refused.length);
});

test('broker ACL: publishing another machine’s status/roster, retained to an inbox, or off-tree is refused', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha', 'beta', 'watcher'] });
  const watcher = await broker.connect('watcher');
  const seen = collect(watcher);
  await watcher.subscribeAsync(['isaac/+/status', 'isaac/roster/+', 'isaac/watcher/msg'], { qos: 1 });

  const refusals: [string, string, boolean][] = [
    ['isaac/beta/status', '{"state":"offline"}', true],
    ['isaac/beta/status', '{"state":"offline"}', false],
    ['isaac/roster/beta', 'forged', true],
    ['isaac/watcher/msg', 'retained into an inbox', true],
    ['isaac/alpha/exec', 'retained into my own inbox', true],
    ['homeassistant/sensor/beta/cpu/config', '{}', true],
    ['random/topic', 'x', false],
    ['$SYS/fake', 'x', false],
    ['isaac/BAD/exec', 'x', false],
  ];
  for (const [topic, payload, retain] of refusals) {
    assert.equal(
      await publishIsRefused(broker, 'alpha', topic, payload, retain),
      true,
      `publish ${topic} retain=${retain}`,
    );
  }
  // what alpha may do
  const alpha = await broker.connect('alpha');
  await alpha.publishAsync('isaac/alpha/status', '{"state":"online"}', { qos: 1, retain: true });
  await alpha.publishAsync('isaac/roster/alpha', 'entry', { qos: 1, retain: true });
  await alpha.publishAsync('homeassistant/sensor/alpha/cpu/config', '{}', { qos: 1, retain: true });
  await alpha.publishAsync('isaac/watcher/msg', 'hello', { qos: 1 });
  await waitFor(() => seen.length >= 3, 'allowed deliveries');
  await settle();
  assert.deepEqual(seen.sort(), [
    'isaac/alpha/status {"state":"online"}',
    'isaac/roster/alpha entry',
    'isaac/watcher/msg hello',
  ]);

  // nothing refused was retained: a new subscriber sees only alpha's own retained entries
  const late = await broker.connect('beta');
  const lateSeen = collect(late);
  await late.subscribeAsync(['isaac/+/status', 'isaac/roster/+', 'isaac/beta/msg'], { qos: 1 });
  await settle(400);
  assert.deepEqual(lateSeen.sort(), ['isaac/alpha/status {"state":"online"}', 'isaac/roster/alpha entry']);
  const counters = broker.running?.counters;
  assert.equal(counters?.refusalCount('retain-denied'), 2);
  assert.equal(counters?.refusalCount('publish-denied'), 7);
});

test('broker limits: oversized payloads and a publish flood are refused while others keep being served', async (t) => {
  const broker = await startTestBroker(t, {
    machines: ['alpha', 'beta', 'gamma'],
    limits: { maxPayload: 4096, publishRate: 50, publishBurst: 100 },
  });
  const beta = await broker.connect('beta');
  const betaSeen = collect(beta);
  await beta.subscribeAsync('isaac/beta/msg', { qos: 1 });

  assert.equal(
    await publishIsRefused(broker, 'alpha', 'isaac/beta/msg', Buffer.alloc(4097)),
    true,
    'one byte over',
  );
  assert.equal(
    await publishIsRefused(broker, 'alpha', 'isaac/beta/msg', Buffer.alloc(1024 * 1024)),
    true,
    '1 MiB',
  );
  assert.equal(broker.running?.counters.refusalCount('oversized'), 2);
  assert.equal(
    await publishIsRefused(broker, 'alpha', 'isaac/beta/msg', Buffer.alloc(4096)),
    false,
    'at the cap',
  );

  const flooder = await broker.connect('alpha', { clean: true });
  const cut = new Promise<void>((r) => flooder.once('close', () => r()));
  for (let i = 0; i < 1000; i++) flooder.publish('isaac/beta/msg', `flood ${i}`, { qos: 0 });
  await cut;
  assert.equal(broker.running?.counters.refusalCount('rate-limited'), 1);
  assert.ok(
    broker.logs().some((l) => l.includes('"reason":"rate-limited"') && l.includes('"machine":"alpha"')),
  );

  const gamma = await broker.connect('gamma');
  await gamma.publishAsync('isaac/beta/msg', 'from gamma', { qos: 1 });
  await waitFor(() => betaSeen.includes('isaac/beta/msg from gamma'), 'gamma still delivered');
  const flood = betaSeen.filter((m) => m.includes('flood')).length;
  assert.ok(flood <= 110, `at most the burst got through (${flood})`);
});

test('broker WebSocket listener (opt-in) applies the same login and ACL', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha', 'beta'], wsPort: 0 });
  assert.match(broker.wsUrl, /^ws:\/\/127\.0\.0\.1:\d+$/);
  const beta = await broker.connect('beta', { ws: true });
  const seen = collect(beta);
  await beta.subscribeAsync('isaac/beta/msg', { qos: 1 });
  assert.equal(await subackCode(beta, 'isaac/alpha/msg'), 128);
  const alpha = await broker.connect('alpha', { ws: true });
  await alpha.publishAsync('isaac/beta/msg', 'over ws', { qos: 1 });
  await waitFor(() => seen.length === 1, 'delivery over ws');
  assert.deepEqual(seen, ['isaac/beta/msg over ws']);
  assert.equal((await broker.tryConnect('alpha', { ws: true, token: 'v1.bad' })).code, 4);
});

test('broker observers (Home Assistant) read statuses and discovery only, with their own password', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha', 'beta'] });
  broker.running?.state.addObserver('homeassistant', 'ha-secret-password');
  const alpha = await broker.connect('alpha');
  await alpha.publishAsync('isaac/alpha/status', '{"state":"online"}', { qos: 1, retain: true });
  await alpha.publishAsync('homeassistant/binary_sensor/alpha/online/config', '{"name":"alpha"}', {
    qos: 1,
    retain: true,
  });
  await alpha.publishAsync('isaac/roster/alpha', 'entry', { qos: 1, retain: true });

  const observe = { token: 'ha-secret-password', clientId: 'ha-1234', clean: true };
  assert.equal((await broker.tryConnect('homeassistant', { ...observe, token: 'wrong' })).code, 4);
  assert.equal(
    (await broker.tryConnect('homeassistant', { ...observe, clientId: 'beta' })).code,
    2,
    'no machine session takeover (identifier rejected)',
  );
  const ha = await broker.connect('homeassistant', observe);
  const seen = collect(ha);
  for (const topic of ['isaac/+/status', 'homeassistant/#'])
    assert.equal(await subackCode(ha, topic), 1, topic);
  for (const topic of ['#', 'isaac/alpha/exec', 'isaac/+/exec', 'isaac/roster/+'])
    assert.equal(await subackCode(ha, topic), 128, topic);
  await waitFor(() => seen.length === 2, 'retained status and discovery');
  assert.deepEqual(seen.sort(), [
    'homeassistant/binary_sensor/alpha/online/config {"name":"alpha"}',
    'isaac/alpha/status {"state":"online"}',
  ]);
  await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
  const counters = broker.running?.counters;
  assert.equal(counters?.refusalCount('observer-bad-password'), 1);
  assert.equal(counters?.refusalCount('observer-client-id'), 1);
  assert.equal(
    await publishIsRefused(broker, 'homeassistant', 'isaac/alpha/status', 'offline', false, {
      ...observe,
      clientId: 'ha-2',
    }),
    true,
  );
  assert.deepEqual(broker.running?.status().connected, ['alpha'], 'observers are not listed as machines');
});

test('broker drainTimeout: a client that stops reading is cut off and cannot stall the others', async (t) => {
  const broker = await startTestBroker(t, {
    machines: ['alpha', 'beta', 'gamma', 'frozen'],
    limits: { drainTimeoutMs: 1000, concurrency: 8 },
  });
  const frozen = await broker.connect('frozen', { clean: true });
  await frozen.subscribeAsync('isaac/frozen/msg', { qos: 0 });
  // stop reading: the broker's writes to it back up once the socket buffers are full
  const socket = frozen.stream as import('node:net').Socket;
  socket.unpipe();
  socket.pause();
  const beta = await broker.connect('beta');
  const betaSeen = collect(beta);
  await beta.subscribeAsync('isaac/beta/msg', { qos: 1 });
  const alpha = await broker.connect('alpha', { clean: true });
  const big = Buffer.alloc(250 * 1024, 0x78);
  for (let i = 0; i < 100; i++) alpha.publish('isaac/frozen/msg', big, { qos: 0 });
  const gamma = await broker.connect('gamma');
  for (let i = 0; i < 20; i++) await gamma.publishAsync('isaac/beta/msg', `g${i}`, { qos: 1 });
  await waitFor(() => betaSeen.length === 20, 'beta served while frozen is stuck', 15_000);
  await waitFor(() => broker.running?.counters.refusalCount('drain-timeout') === 1, 'frozen cut off', 15_000);
  assert.ok(broker.logs().some((l) => l.includes('"reason":"drain-timeout"') && l.includes('"frozen"')));
});
