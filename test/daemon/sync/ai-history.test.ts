import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { loadIdentity } from '../../../node/core/crypto/keys.ts';
import { encodeCbor } from '../../../schemas/codec.ts';
import { openEnvelope, sealEnvelope } from '../../../schemas/envelope.ts';
import type { HistoryBatch } from '../../../schemas/messages.ts';
import { topics } from '../../../schemas/topics.ts';
import { startFakeProvider } from '../../helpers/fake-providers.ts';
import { runIsaac } from '../../helpers/isaac.ts';
import {
  createNetwork,
  machineLogin,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../../helpers/node-procs.ts';
import { waitFor } from '../../helpers/tmp.ts';

/**
 * AI history syncs like command history, through real isaac-node processes, a real isaac-broker
 * (in-process, TLS) and the real `isaac` shell asking a local fake Ollama: every machine sees
 * every machine's AI questions, redacted, caught up after an absence, never doubled, and only
 * its origin (or an admin) can add to or delete from a machine's AI series.
 */
const QUESTION_SECRET = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
const ANSWER_SECRET = `ghp_${'Z9y8X7w6V5'.repeat(3)}uvwxyz`;
const asMachine = (home: string) => ({ home, userHome: home, env: { ...process.env, ISAAC_HOME: home } });
type AiRow = { origin: string; seq: number; question: string; answer: string | null };
const aiRows = (home: string, origin?: string): AiRow[] =>
  withStore(home, (s) =>
    s.db
      .prepare<[], AiRow>('SELECT origin, seq, question, answer FROM ai_history ORDER BY origin, seq')
      .all()
      .filter((r) => origin === undefined || r.origin === origin),
  );

function dbHolds(home: string, secret: string): boolean {
  return readdirSync(home)
    .filter((f) => f.startsWith('isaac.db'))
    .some((f) => readFileSync(join(home, f)).includes(secret));
}

async function connectAs(home: string, url: string): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    ...machineLogin(home, url).options,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  return await new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

test('AI history: asked on alpha, seen on beta (redacted), caught up after an absence, never doubled, not forgeable or deletable by a member', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', {
    text: `The token lacks the repo scope. A new one, like ${ANSWER_SECRET}, needs repo access.`,
  });
  const names = ['alpha', 'beta', 'gamma'];
  const net = await createNetwork(t, names);
  const [alpha, beta, gamma] = [net.homes.alpha!, net.homes.beta!, net.homes.gamma!];
  withStore(alpha, (s) => {
    s.config.set('ai.provider', 'ollama');
    s.config.set('ai.ollama.base_url', fake.baseUrl);
  });
  // what the broker relays to beta's history inbox, to open and to replay
  const toBeta: Buffer[] = [];
  net.broker.running!.aedes.on('publish', (packet) => {
    if (packet.topic === topics.inbox('beta', 'history')) toBeta.push(Buffer.from(packet.payload as Buffer));
  });
  await startNodeProc(t, alpha);
  let betaProc = await startNodeProc(t, beta);
  await waitAllOnline([alpha, beta], ['alpha', 'beta']);

  // 1. asked on alpha, in the real shell, of the fake provider
  const asked = await runIsaac(asMachine(alpha), [
    '-c',
    ` /ask why does git push fail with GITHUB_TOKEN=${QUESTION_SECRET} set`,
  ]);
  assert.equal(asked.status, 0, asked.stderr);
  assert.match(asked.stdout, /lacks the repo scope/);
  assert.ok(fake.requests.length > 0 && !fake.requests.some((r) => r.raw.includes(QUESTION_SECRET)));
  await waitFor(() => aiRows(beta, 'alpha').length === 1, 'beta holds alpha’s AI question', 60_000);
  const [row] = aiRows(beta, 'alpha');
  assert.equal(row?.seq, 1);
  assert.equal(row?.question, 'why does git push fail with GITHUB_TOKEN=[REDACTED] set');
  assert.match(row?.answer ?? '', /^The token lacks the repo scope\. A new one, like \[REDACTED\], needs/);
  assert.deepEqual(aiRows(alpha), aiRows(beta), 'alpha stored exactly what beta holds');

  const shown = await runIsaac(asMachine(beta), ['-c', ' /show ai-history --all']);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(
    shown.stdout,
    /^\S+ \S+ alpha ask \[ollama\]: why does git push fail with GITHUB_TOKEN=\[REDACTED\] set$/m,
  );
  assert.match(shown.stdout, /→ The token lacks the repo scope\./);
  const own = await runIsaac(asMachine(beta), ['-c', ' /show ai-history']);
  assert.equal(own.stdout, 'no AI queries yet\n', 'without --all: beta’s own questions only');
  const one = await runIsaac(asMachine(beta), ['-c', ' /show ai-history 5 --machine alpha']);
  assert.match(one.stdout, /alpha ask \[ollama\]: why does git push/);

  const queried = await runIsaac(asMachine(beta), ['-c', ' !query --ai push scope']);
  assert.equal(queried.status, 0, queried.stderr);
  assert.match(
    queried.stdout,
    /alpha ask \[ollama\]: why does git push fail with GITHUB_TOKEN=\[REDACTED\] set/,
  );
  assert.match(queried.stdout, /^answered: alpha · offline: gamma$/m);
  const json = await runIsaac(asMachine(beta), ['-c', ' !query --ai scope --json']);
  const lines = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => [l.machine, l.seq, l.kind, l.provider]),
    [
      ['alpha', 1, 'ask', 'ollama'],
      [undefined, undefined, undefined, undefined],
    ],
  );
  assert.deepEqual(lines[1], {
    machines: { answered: ['alpha'], silent: [], offline: ['gamma'] },
    fromPeers: 0,
  });
  const none = await runIsaac(asMachine(beta), ['-c', ' !query --ai kubernetes']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^no AI question or answer matching "kubernetes"$/m);
  const wrong = await runIsaac(asMachine(beta), ['-c', ' !query --ai push --exit 1']);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /--exit does not apply to the AI history/);

  // the secrets are nowhere: not in what travelled, not in either database
  const opened = toBeta.map((payload) =>
    openEnvelope(new Uint8Array(payload), {
      myName: 'beta',
      myBoxKeyPair: loadIdentity(beta).box,
      topicMachine: 'beta',
      lookupSignPk: (name) => (name === 'alpha' ? loadIdentity(alpha).sign.publicKey : undefined),
    }),
  );
  const aiBatch = toBeta.find((_, i) => ((opened[i]?.body as HistoryBatch | undefined)?.ai?.length ?? 0) > 0);
  assert.ok(aiBatch, 'alpha sent beta a batch with its AI record');
  const travelled = Buffer.concat(opened.map((e) => Buffer.from(encodeCbor(e.body))));
  for (const secret of [QUESTION_SECRET, ANSWER_SECRET]) {
    assert.equal(travelled.includes(secret), false, 'a secret in a sealed body');
    assert.equal(dbHolds(alpha, secret), false, 'a secret in alpha’s database');
    assert.equal(dbHolds(beta, secret), false, 'a secret in beta’s database');
  }

  // 2. offline catch-up: beta is away, loses alpha's question (an old backup), alpha asks again
  await betaProc.kill();
  withStore(beta, (s) => s.db.prepare("DELETE FROM ai_history WHERE origin = 'alpha'").run());
  const again = await runIsaac(asMachine(alpha), ['-c', ' /ask what does git push --force-with-lease do']);
  assert.equal(again.status, 0, again.stderr);
  betaProc = await startNodeProc(t, beta);
  await waitFor(
    () =>
      aiRows(beta, 'alpha')
        .map((r) => r.seq)
        .join() === '1,2',
    'beta caught up with both of alpha’s questions (the lost one by catch-up)',
    60_000,
  );

  // 3. nothing doubles: the captured envelope replayed, and everything sent again by /sync force
  const intruder = await connectAs(gamma, net.broker.tlsUrl);
  t.after(() => intruder.end(true));
  await intruder.publishAsync(topics.inbox('beta', 'history'), aiBatch, { qos: 1 });
  await waitFor(
    () => /refused \(replay\)/.test(betaProc.log()),
    'beta refused the replayed envelope',
    30_000,
  );
  const forced = await runIsaac(asMachine(beta), ['-c', ' /sync force']);
  assert.equal(forced.status, 0, forced.stderr + forced.stdout);
  assert.equal(aiRows(beta, 'alpha').length, 2, 'one row per (origin, seq)');

  // 4. a member (gamma, no admin) signs what it may not: alpha's records, and their deletion
  await waitFor(
    () => withStore(beta, (s) => s.machines.get('gamma')?.box_pk != null),
    'beta trusts gamma’s roster entry',
  );
  const g = loadIdentity(gamma);
  const betaBox = withStore(beta, (s) => s.machines.get('beta')!.box_pk!);
  const send = async (body: HistoryBatch) => {
    const sealed = sealEnvelope(
      { type: 'history-batch', from: 'gamma', to: 'beta', ttlMs: 60_000, body },
      g.sign.secretKey,
      new Uint8Array(betaBox),
    );
    await intruder.publishAsync(topics.inbox('beta', 'history'), Buffer.from(sealed.payload), { qos: 1 });
  };
  const ts = Date.now();
  await send({
    records: [],
    ai: [{ origin: 'alpha', seq: 3, ts, kind: 'ask', question: 'injected by gamma' }],
  });
  await send({ records: [], aiTombstones: [{ origin: 'alpha', seq: 1 }] });
  // and, to show its envelopes do arrive, one record of its own series, its secret left in
  const unredacted = `gamma’s own, with GITHUB_TOKEN=${QUESTION_SECRET}`;
  await send({ records: [], ai: [{ origin: 'gamma', seq: 1, ts, kind: 'ask', question: unredacted }] });
  await waitFor(() => aiRows(beta, 'gamma').length === 1, 'beta took gamma’s own AI record', 30_000);
  assert.equal(aiRows(beta, 'gamma')[0]?.question, 'gamma’s own, with GITHUB_TOKEN=[REDACTED]');
  assert.equal(dbHolds(beta, QUESTION_SECRET), false, 'what a peer sends is redacted on the way in too');
  await waitFor(
    () =>
      /refused a batch from gamma carrying records of alpha/.test(betaProc.log()) &&
      /refused \(foreign-tombstone\): 1 AI tombstone\(s\): gamma tried to delete AI records of alpha/.test(
        betaProc.log(),
      ),
    'beta refused and logged both',
    30_000,
  );
  assert.deepEqual(
    aiRows(beta, 'alpha').map((r) => r.seq),
    [1, 2],
    'alpha’s series on beta: nothing injected, nothing deleted',
  );
  const kept = withStore(beta, (s) =>
    s.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM ai_tombstones').get(),
  );
  assert.equal(kept?.n, 0, 'a refused tombstone is not kept either');

  // 5. the origin may delete its own: alpha's /clear ai-history reaches beta
  const cleared = await runIsaac(asMachine(alpha), ['--yes', '-c', ' /clear ai-history']);
  assert.equal(cleared.status, 0, cleared.stderr);
  assert.equal(cleared.stdout, 'deleted 2 AI records\n');
  await waitFor(
    () => aiRows(beta, 'alpha').length === 0,
    'alpha’s tombstones emptied its series on beta',
    60_000,
  );
  assert.equal(aiRows(beta, 'gamma').length, 1);
});
