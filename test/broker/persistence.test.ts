/**
 * What the SQLite persistence adds beyond the aedes-persistence contract: state that survives a
 * reopen of the file, a bounded per-session queue that says when it refuses, queue streams that
 * page through SQLite, and a PUBACK that Aedes only sends once the message is stored.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import type { StoredPacket } from '../../broker/persistence/interface.ts';
import { createSqlitePersistence, type QueueFullEvent } from '../../broker/persistence/sqlite.ts';
import { freePort, tempDir, waitFor } from '../helpers/tmp.ts';

const fakeBroker = () => ({ id: 'broker-1', counter: 0, publish: () => undefined });

function packet(topic: string, n: number, counter = n): StoredPacket {
  return {
    cmd: 'publish',
    topic,
    payload: Buffer.from(`m${n}`),
    qos: 1,
    retain: false,
    dup: false,
    brokerId: 'broker-1',
    brokerCounter: counter,
  };
}

async function drain(stream: AsyncIterable<unknown>): Promise<StoredPacket[]> {
  const out: StoredPacket[] = [];
  for await (const p of stream) out.push(p as StoredPacket);
  return out;
}

test('sessions, queues, retained messages and wills survive closing and reopening the file', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const first = createSqlitePersistence({ file });
  await first.setup(fakeBroker());
  await first.addSubscriptions({ id: 'b' }, [{ topic: 'isaac/b/msg', qos: 1 }]);
  await first.storeRetained({ ...packet('isaac/a/status', 0), retain: true });
  for (let n = 1; n <= 3; n++)
    await first.outgoingEnqueueCombi([{ clientId: 'b' }], packet('isaac/b/msg', n));
  await first.putWill(
    { id: 'a' },
    { topic: 'isaac/a/status', payload: Buffer.from('offline'), qos: 1, retain: true },
  );
  await first.destroy();

  const second = createSqlitePersistence({ file });
  const broker = fakeBroker();
  await second.setup(broker);
  t.after(() => second.destroy());
  assert.deepEqual(
    (await second.subscriptionsByTopic('isaac/b/msg')).map((s) => s.clientId),
    ['b'],
    'the subscription still routes',
  );
  assert.equal(second.queueDepth('b'), 3, 'queue depth is known after the reopen');
  const queued = await drain(second.outgoingStream({ id: 'b' }));
  assert.deepEqual(
    queued.map((p) => String(p.payload)),
    ['m1', 'm2', 'm3'],
    'queued messages in order',
  );
  const retained = await drain(second.createRetainedStream('isaac/+/status'));
  assert.equal(retained.length, 1);
  assert.equal(String((await second.getWill({ id: 'a' }))?.payload), 'offline');
  assert.ok(broker.counter >= 3, 'packet counters continue above the stored ones for the same broker id');
});

test('a full session queue refuses further messages, counts them and logs once', async (t) => {
  const warnings: object[] = [];
  const full: QueueFullEvent[] = [];
  const p = createSqlitePersistence({
    file: join(tempDir(t), 'sessions.db'),
    maxQueuedPerSession: 3,
    logger: { warn: (obj) => warnings.push(obj) },
    onQueueFull: (event) => full.push(event),
  });
  await p.setup(fakeBroker());
  t.after(() => p.destroy());
  for (let n = 1; n <= 5; n++) {
    await p.outgoingEnqueueCombi([{ clientId: 'b' }, { clientId: 'c' }], packet('isaac/x/msg', n));
  }
  assert.deepEqual(
    (await drain(p.outgoingStream({ id: 'b' }))).map((x) => String(x.payload)),
    ['m1', 'm2', 'm3'],
    'the oldest are kept, the newest refused',
  );
  assert.equal(p.stats().droppedTotal, 4);
  assert.deepEqual(p.stats().dropped, { b: 2, c: 2 });
  assert.equal(full.length, 4, 'the hook hears every refusal');
  assert.equal(warnings.length, 2, 'one log line per session, not per message');

  // acknowledging one makes room again
  const [first] = await drain(p.outgoingStream({ id: 'b' }));
  await p.outgoingUpdate({ id: 'b' }, { ...(first as StoredPacket), messageId: 7 });
  assert.equal(String((await p.outgoingClearMessageId({ id: 'b' }, { messageId: 7 }))?.payload), 'm1');
  await p.outgoingEnqueueCombi([{ clientId: 'b' }], packet('isaac/x/msg', 6));
  assert.equal(p.queueDepth('b'), 3);
});

test('a queue stream pages through large queues in order and ignores packets queued after it began', async (t) => {
  const p = createSqlitePersistence({ file: join(tempDir(t), 'sessions.db') });
  await p.setup(fakeBroker());
  t.after(() => p.destroy());
  for (let n = 1; n <= 200; n++) await p.outgoingEnqueue({ clientId: 'b' }, packet('isaac/b/msg', n));
  const stream = p.outgoingStream({ id: 'b' });
  await p.outgoingEnqueue({ clientId: 'b' }, packet('isaac/b/msg', 201));
  const seen = (await drain(stream)).map((x) => x.brokerCounter);
  assert.deepEqual(
    seen,
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
});

test('Aedes sends PUBACK only after the message is in the offline queue', async (t) => {
  const p = createSqlitePersistence({ file: join(tempDir(t), 'sessions.db') });
  // slow the queue write down: an early PUBACK would now arrive while the queue is still empty
  const enqueue = p.outgoingEnqueueCombi.bind(p);
  p.outgoingEnqueueCombi = async (subs, pkt) => {
    await new Promise((r) => setTimeout(r, 300));
    await enqueue(subs, pkt);
  };
  const aedes = await Aedes.createBroker({ persistence: p as never });
  const server = createServer(aedes.handle);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  t.after(async () => {
    server.close();
    await new Promise<void>((r) => aedes.close(() => r()));
    await p.destroy();
  });
  const url = `mqtt://127.0.0.1:${port}`;
  const b = await mqtt.connectAsync(url, { clientId: 'b', clean: false, reconnectPeriod: 0 });
  await b.subscribeAsync('isaac/b/msg', { qos: 1 });
  await b.endAsync();
  const a = await mqtt.connectAsync(url, { clientId: 'a', reconnectPeriod: 0 });
  t.after(() => a.end(true));

  await a.publishAsync('isaac/b/msg', 'hello', { qos: 1 });
  assert.equal(p.queueDepth('b'), 1, 'the message was queued before the PUBACK reached the sender');
  const retained = await a.publishAsync('isaac/a/status', '{"state":"online"}', { qos: 1, retain: true });
  assert.ok(retained);
  const stored = await drain(p.createRetainedStream('isaac/a/status'));
  assert.equal(stored.length, 1, 'a retained QoS-1 message is stored before its PUBACK');
  await waitFor(() => aedes.connectedClients === 1, 'b gone');
});

test('a write has committed by the time its promise resolves (another connection sees it)', async (t) => {
  const file = join(tempDir(t), 'sessions.db');
  const p = createSqlitePersistence({ file });
  await p.setup(fakeBroker());
  t.after(() => p.destroy());
  const reader = new Database(file, { readonly: true });
  t.after(() => reader.close());
  const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM outgoing').get() as { n: number }).n;

  const writes = [1, 2, 3].map((n) => p.outgoingEnqueue({ clientId: 'b' }, packet('isaac/b/msg', n)));
  assert.equal(count(), 0, 'still in the open batch: nothing is acknowledged yet either');
  await Promise.all(writes);
  assert.equal(count(), 3, 'all three committed together');
});
