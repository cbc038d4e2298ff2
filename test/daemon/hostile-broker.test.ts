import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Aedes } from 'aedes';
import nacl from 'tweetnacl';
import { connectNode, type ExecEvent } from '../../node/ipc/client.ts';
import { encodeCbor } from '../../schemas/codec.ts';
import { sealEnvelope } from '../../schemas/envelope.ts';
import { sealBox } from '../../schemas/sealedbox.ts';
import { INBOX_KINDS, topics } from '../../schemas/topics.ts';
import { makeKeys, startPlainBroker, startTestNode } from '../helpers/bus-nodes.ts';
import { freePort, tempDir, waitFor } from '../helpers/tmp.ts';

function inject(aedes: Aedes, topic: string, payload: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) =>
    aedes.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
      (err) => (err ? reject(err) : resolve()),
    ),
  );
}

/** A TCP proxy in the broker's place that keeps every byte in both directions. */
async function recordingProxy(
  t: Parameters<typeof tempDir>[0],
  target: number,
): Promise<{ url: string; bytes(): Buffer }> {
  const chunks: Buffer[] = [];
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    client.on('data', (d) => chunks.push(Buffer.from(d)));
    upstream.on('data', (d) => chunks.push(Buffer.from(d)));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `mqtt://127.0.0.1:${port}`, bytes: () => Buffer.concat(chunks) };
}

test('a hostile broker sees no command, output or message text, and cannot replay, alter or forge a request', async (t) => {
  const broker = await startPlainBroker(t);
  const proxy = await recordingProxy(t, broker.port);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const na = await startTestNode(t, a, [a, b], [proxy.url]);
  const nb = await startTestNode(t, b, [a, b], [proxy.url]);
  const captured: { topic: string; payload: Buffer }[] = [];
  broker.aedes.on('publish', (packet) => {
    if (packet.topic === topics.inbox('beta', 'exec'))
      captured.push({ topic: packet.topic, payload: Buffer.from(packet.payload) });
  });
  await waitFor(() => na.store.machines.get('beta')?.status === 'online', 'beta online');
  const client = await connectNode(na.home);
  assert.ok(client);
  t.after(() => client.close());

  const events: ExecEvent[] = [];
  await client.exec({ targets: 'beta', cmd: 'echo SECRETCMD >/dev/null; echo SECRET$((6*7))OUT' }, (e) =>
    events.push(e),
  ).done;
  assert.ok(events.some((e) => e.event === 'chunk' && e.data === 'SECRET42OUT\n'));
  await client.msg('beta', 'SECRETMSG text');
  await waitFor(() => nb.store.messages.count({ direction: 'in' }) === 1, 'message delivered');
  const wire = proxy.bytes();
  assert.ok(wire.length > 1000);
  for (const secret of ['SECRETCMD', 'SECRET42OUT', 'SECRETMSG', 'SECRET'])
    assert.equal(wire.indexOf(secret), -1, `${secret} on the wire`);

  const ranBefore = nb.store.db
    .prepare("SELECT COUNT(*) AS n FROM commands WHERE source = 'remote:alpha'")
    .get() as { n: number };
  assert.equal(ranBefore.n, 1);
  const original = captured[0];
  assert.ok(original);
  await inject(broker.aedes, original.topic, original.payload); // replay
  const flipped = Buffer.from(original.payload);
  flipped[flipped.length >> 1]! ^= 0x10;
  await inject(broker.aedes, original.topic, flipped); // altered
  const marker = join(tempDir(t), 'forged');
  const stranger = nacl.sign.keyPair();
  const forged = sealEnvelope(
    {
      type: 'exec',
      from: 'alpha',
      to: 'beta',
      body: { cmd: `touch ${marker}`, timeoutMs: 5000, stream: false },
      ttlMs: 60_000,
    },
    stranger.secretKey,
    b.box.publicKey,
  );
  await inject(broker.aedes, forged.topic, forged.payload); // signed by a key not in the roster
  const mallory = sealEnvelope(
    {
      type: 'exec',
      from: 'mallory',
      to: 'beta',
      body: { cmd: `touch ${marker}`, timeoutMs: 5000, stream: false },
      ttlMs: 60_000,
    },
    stranger.secretKey,
    b.box.publicKey,
  );
  await inject(broker.aedes, mallory.topic, mallory.payload);
  await waitFor(() => nb.daemon.refusals.total() >= 4, 'four refusals');
  assert.deepEqual(nb.daemon.refusals.snapshot(), {
    'bad-signature': 1,
    'decrypt-failed': 1,
    replay: 1,
    'unknown-sender': 1,
  });
  for (const reason of ['replay', 'decrypt-failed', 'bad-signature', 'unknown-sender']) {
    assert.equal(
      nb.logs.filter((l) => l.startsWith(`refused (${reason})`)).length,
      1,
      `${reason} logged once: ${nb.logs.join('\n')}`,
    );
  }
  await new Promise((r) => setTimeout(r, 200));
  const ranAfter = nb.store.db
    .prepare("SELECT COUNT(*) AS n FROM commands WHERE source = 'remote:alpha'")
    .get() as { n: number };
  assert.equal(ranAfter.n, 1, 'the replay did not run again');
  assert.equal(existsSync(marker), false, 'the forged request did not run');
});

test('fuzz: 10,000 random or mutated payloads on every inbox topic are all rejected, no crash, !status still answers', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const na = await startTestNode(t, a, [a, b], [broker.url]);
  const nb = await startTestNode(t, b, [a, b], [broker.url]);
  await waitFor(() => na.store.machines.get('beta')?.status === 'online', 'beta online');
  const valid = sealEnvelope(
    { type: 'msg', from: 'alpha', to: 'beta', body: { text: 'x' }, ttlMs: 60_000 },
    a.sign.secretKey,
    b.box.publicKey,
  ).payload;
  const stranger = nacl.sign.keyPair();
  let seed = 0x9e3779b9;
  const rand = (n: number) => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed % n;
  };
  const payloadFor = (kind: string, i: number): Uint8Array => {
    switch (i % 6) {
      case 0:
        return randomBytes(rand(400));
      case 1: {
        const m = Buffer.from(valid);
        for (let k = 0, flips = 1 + rand(4); k < flips; k++) m[rand(m.length)]! ^= 1 << rand(8);
        return m;
      }
      case 2:
        return Buffer.from(valid).subarray(0, rand(valid.length));
      case 3: // sealed to beta, but the inside is garbage or an unsigned body
        return sealBox(
          i % 2 ? randomBytes(rand(200)) : encodeCbor([encodeCbor({ v: 1, type: kind, i }), randomBytes(64)]),
          b.box.publicKey,
        );
      case 4: // correctly signed by a stranger claiming to be alpha
        return sealEnvelope(
          { type: 'msg', from: 'alpha', to: 'beta', body: { text: 'x' }, ttlMs: 60_000 },
          stranger.secretKey,
          b.box.publicKey,
        ).payload;
      default:
        return encodeCbor({ kind, i, junk: randomBytes(rand(64)) });
    }
  };
  const perTopic = 10_000;
  for (const kind of INBOX_KINDS) {
    const topic = topics.inbox('beta', kind);
    for (let i = 0; i < perTopic; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, k) => inject(broker.aedes, topic, payloadFor(kind, i + k))),
      );
    }
  }
  await waitFor(
    () => nb.daemon.refusals.total() >= perTopic * INBOX_KINDS.length,
    'every payload refused',
    120_000,
  );
  assert.equal(nb.daemon.refusals.total(), perTopic * INBOX_KINDS.length);
  assert.equal(nb.store.messages.count(), 0);
  assert.equal((nb.store.db.prepare('SELECT COUNT(*) AS n FROM commands').get() as { n: number }).n, 0);
  const client = await connectNode(na.home);
  assert.ok(client);
  t.after(() => client.close());
  const status = await client.status('beta');
  assert.equal(status.state, 'online');
  assert.ok(typeof status.rttMs === 'number', 'beta answered a live ping');
});
