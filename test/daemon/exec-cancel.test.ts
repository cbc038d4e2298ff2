import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { installKeys } from '../../node/core/crypto/keys.ts';
import type { Store } from '../../node/core/store/store.ts';
import { connectNode } from '../../node/ipc/client.ts';
import { runBangCommand } from '../../node/shell/commands/bang.ts';
import type { CommandContext } from '../../node/shell/commands/types.ts';
import { openEnvelope, sealEnvelope } from '../../schemas/envelope.ts';
import type { MessageBodies, MessageType } from '../../schemas/messages.ts';
import { topics } from '../../schemas/topics.ts';
import { type MachineKeys, makeKeys, startPlainBroker, startTestNode } from '../helpers/bus-nodes.ts';
import { captureIO } from '../helpers/capture-io.ts';
import { waitFor } from '../helpers/tmp.ts';

/** True while any process of process group `pgid` is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The history record the target made of a remote command containing `marker`, once it is done. */
function remoteRecord(
  store: Store,
  marker: string,
): { output: string | null; exit: number | null } | undefined {
  return store.db
    .prepare<[string], { output: string | null; exit: number | null }>(
      "SELECT output, exit FROM commands WHERE source LIKE 'remote:%' AND command LIKE ?",
    )
    .get(`%${marker}%`);
}

test('Ctrl-C during !exec: status 130 at once, the process group on the target is gone, `done` never printed', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const w = makeKeys('web1');
  const na = await startTestNode(t, a, [a, w], [broker.url]);
  installKeys(na.home, {
    sign: a.sign,
    box: a.box,
    loginSecret: new Uint8Array(randomBytes(32)),
    network: undefined,
  });
  const nw = await startTestNode(t, w, [a, w], [broker.url]);
  await waitFor(() => na.store.machines.get('web1')?.status === 'online', 'web1 online');

  const io = captureIO();
  const ctx: CommandContext = { store: na.store, io, env: {}, assumeYes: false };
  const marker = `done-${randomBytes(4).toString('hex')}`;
  const abort = new AbortController();
  const running = runBangCommand(`!exec web1 echo "pgid $$"; sleep 30; echo ${marker}`, ctx, {
    signal: abort.signal,
  });
  const started = await waitFor(() => /pgid (\d+)\n/.exec(io.outText), 'the command started on web1', 20_000);
  const pgid = Number(started?.[1]);
  assert.ok(groupAlive(pgid), 'the sleep runs on web1');
  const pressed = Date.now();
  abort.abort();
  const status = await running;
  const waited = Date.now() - pressed;
  assert.equal(status, 130);
  assert.ok(waited < 1000, `the prompt came back ${waited} ms after Ctrl-C`);
  assert.match(io.errText, /cancelled \(Ctrl-C\): sent a cancel to web1/);

  await waitFor(() => !groupAlive(pgid), 'the whole process group on web1 is gone', 10_000);
  const record = await waitFor(() => remoteRecord(nw.store, marker), 'web1 recorded the command', 10_000);
  assert.ok(record);
  assert.equal(record.exit, 130, 'killed by SIGINT');
  assert.ok(!record.output?.includes(`\n${marker}`), '`done` was never printed');
  assert.ok(!io.outText.includes(`\n${marker}`));
  // the late result is dropped, not shown as a notification later
  await waitFor(() => nw.store.outbox.count() === 0, 'web1 sent its result');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(na.store.messages.count({ direction: 'in', kind: 'exec-result' }), 0);
});

test('only the machine that sent an !exec can cancel it; a cancel ahead of its exec keeps it from running', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const w = makeKeys('web1');
  const mallory = makeKeys('mallory');
  const members = [a, w, mallory];
  const nw = await startTestNode(t, w, members, [broker.url]);
  const client = await mqtt.connectAsync(broker.url, {
    clientId: 'raw-sender',
    username: 'x',
    password: 'x',
  });
  t.after(() => client.endAsync(true));
  const send = async <K extends MessageType>(
    from: MachineKeys,
    type: K,
    body: MessageBodies[K],
    corr?: Uint8Array,
  ): Promise<Uint8Array> => {
    const sealed = sealEnvelope(
      { type, from: from.name, to: 'web1', body, ttlMs: 60_000, ...(corr ? { corr } : {}) },
      from.sign.secretKey,
      w.box.publicKey,
    );
    await client.publishAsync(sealed.topic, Buffer.from(sealed.payload), { qos: 1 });
    return sealed.id;
  };
  await waitFor(() => nw.daemon.session.state.connected, 'web1 connected');

  const marker = `held-${randomBytes(4).toString('hex')}`;
  const execId = await send(a, 'exec', { cmd: `sleep 30; echo ${marker}`, timeoutMs: 60_000, stream: false });
  await waitFor(() => nw.daemon.nodeStatus().runningExecs === 1, 'the exec runs on web1');
  await send(mallory, 'exec-cancel', {}, execId);
  await waitFor(() => nw.logs.some((l) => l.includes('ignored a cancel from mallory')), 'mallory refused');
  assert.equal(nw.daemon.nodeStatus().runningExecs, 1, 'still running after mallory tried');

  await send(a, 'exec-cancel', {}, execId);
  await waitFor(() => nw.daemon.nodeStatus().runningExecs === 0, 'alpha cancelled its own exec');
  const record = await waitFor(() => remoteRecord(nw.store, marker), 'web1 recorded the command');
  assert.ok(record);
  assert.equal(record.exit, 130);

  // A cancel that overtakes its exec (an exec resent after a reconnect): the exec never runs.
  const early = sealEnvelope(
    {
      type: 'exec',
      from: 'alpha',
      to: 'web1',
      body: { cmd: 'echo never-ran', timeoutMs: 10_000, stream: false },
      ttlMs: 60_000,
    },
    a.sign.secretKey,
    w.box.publicKey,
  );
  await send(a, 'exec-cancel', {}, early.id);
  const replies: Buffer[] = [];
  await client.subscribeAsync(topics.inbox('alpha', 'reply'), { qos: 1 });
  client.on('message', (_topic, payload) => replies.push(payload));
  await client.publishAsync(early.topic, Buffer.from(early.payload), { qos: 1 });
  const reply = await waitFor(() => replies[0], 'web1 answered the cancelled exec');
  assert.ok(reply);
  const answer = openEnvelope(new Uint8Array(reply), {
    myName: 'alpha',
    myBoxKeyPair: a.box,
    topicMachine: 'alpha',
    lookupSignPk: (name) => (name === 'web1' ? w.sign.publicKey : undefined),
  });
  assert.ok(answer.type === 'exec-result');
  assert.equal(answer.body.exit, 130);
  assert.match(answer.body.refused?.reason ?? '', /cancelled by the sender before it ran/);
  assert.equal(remoteRecord(nw.store, 'never-ran'), undefined, 'it never ran');
});

test('a shell that goes away does not cancel an !exec queued for an offline machine', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const db = makeKeys('db');
  const na = await startTestNode(t, a, [a, db], [broker.url]);
  const first = await startTestNode(t, db, [a, db], [broker.url]);
  await waitFor(() => na.store.machines.get('db')?.status === 'online', 'db online once');
  await first.stop();
  await waitFor(() => na.store.machines.get('db')?.status === 'offline', 'db offline');
  const client = await connectNode(na.home);
  assert.ok(client);
  const events: string[] = [];
  await client.exec({ targets: 'db', cmd: 'echo ran-later' }, (e) => events.push(e.event)).done;
  assert.deepEqual(events, ['queued', 'done']);
  client.close();
  await waitFor(() => na.store.outbox.count() === 0, 'the exec is at the broker');
  // db comes back: the queued exec is still delivered and runs
  const ndb = await startTestNode(t, db, [a, db], [broker.url], { home: first.home });
  await waitFor(
    () => na.store.messages.count({ direction: 'in', kind: 'exec-result' }) === 1,
    'the result of the queued exec',
    30_000,
  );
  assert.equal(remoteRecord(ndb.store, 'ran-later')?.exit, 0);
});
