/**
 * Offline queue durability through the real `isaac-broker start` process: machine B is offline
 * with a persistent session, two senders publish 1,000 QoS-1 messages to its inbox, the broker is
 * SIGKILLed the moment the last PUBACK arrives, restarted on the same data, and B must then get
 * every acknowledged message exactly once, in order per sender.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { waitFor } from '../helpers/tmp.ts';

const TOTAL = 1000;
const SENDERS = ['a', 'c'] as const;
const LIMITS = { publishRate: 10_000, publishBurst: 10_000 };

interface Received {
  from: string;
  n: number;
}

/** Connects B with its persistent session, collecting messages from the first packet on. */
async function connectB(broker: TestBroker, received: Received[], t: { after(fn: () => void): void }) {
  const client: MqttClient = mqtt.connect(broker.url, {
    clientId: 'b',
    username: 'b',
    password: broker.token('b'),
    clean: false,
    reconnectPeriod: 0,
    protocolVersion: 4,
    resubscribe: false,
  });
  t.after(() => client.end(true));
  client.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()) as Received));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

test('1,000 PUBACKed QoS-1 messages for an offline machine survive kill -9 of isaac-broker', async (t) => {
  const broker = await startTestBroker(t, { process: true, machines: ['a', 'b', 'c'], limits: LIMITS });

  const before: Received[] = [];
  const b = await connectB(broker, before, t);
  await b.subscribeAsync('isaac/b/msg', { qos: 1 });
  await b.endAsync();

  const senders = await Promise.all(SENDERS.map((name) => broker.connect(name)));
  let acked = 0;
  const allAcked = new Promise<void>((resolve, reject) => {
    for (let i = 0; i < TOTAL; i++) {
      const sender = senders[i % SENDERS.length] as MqttClient;
      const from = SENDERS[i % SENDERS.length] as string;
      const payload = JSON.stringify({ from, n: Math.floor(i / SENDERS.length) });
      sender.publish('isaac/b/msg', payload, { qos: 1 }, (err) => {
        if (err) return reject(err);
        // kill at the very last PUBACK: whatever Aedes still had to store after acking is at stake
        if (++acked === TOTAL) {
          broker.child?.kill('SIGKILL');
          resolve();
        }
      });
    }
  });
  await allAcked;
  await broker.kill();

  const restarted = await startTestBroker(t, {
    process: true,
    limits: LIMITS,
    reuse: { dataDir: broker.dataDir, networkKeys: broker.networkKeys, secrets: broker.secrets },
  });
  const received: Received[] = [];
  await connectB(restarted, received, t);
  // a shortfall is reported by the count below, not as a bare timeout
  await waitFor(() => received.length >= TOTAL, `${TOTAL} messages after restart`, 20_000).catch(
    () => undefined,
  );
  // anything doubled would arrive right behind the rest
  await new Promise((r) => setTimeout(r, 500));

  assert.equal(before.length, 0, 'B was offline while the messages were sent');
  assert.equal(received.length, TOTAL, 'each message exactly once');
  for (const from of SENDERS) {
    const ns = received.filter((m) => m.from === from).map((m) => m.n);
    assert.deepEqual(
      ns,
      Array.from({ length: TOTAL / SENDERS.length }, (_, i) => i),
      `all of ${from}'s messages, in the order ${from} sent them`,
    );
  }
});
