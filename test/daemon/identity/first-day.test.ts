import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { adoptEarlierHistory } from '../../../node/core/store/adopt-history.ts';
import { defaultMachineName } from '../../../node/core/store/store.ts';
import { startFakeProvider } from '../../helpers/fake-providers.ts';
import { runIsaac } from '../../helpers/isaac.ts';
import { createNetwork, startNodeProc, waitAllOnline, withStore } from '../../helpers/node-procs.ts';
import { waitFor } from '../../helpers/tmp.ts';

type Row = { origin: string; seq: number; command: string };
const rows = (home: string, origin?: string): Row[] =>
  withStore(home, (s) =>
    s.db
      .prepare<[], Row>('SELECT origin, seq, command FROM commands ORDER BY origin, seq')
      .all()
      .filter((r) => origin === undefined || r.origin === origin),
  );

type AiRow = { origin: string; seq: number; question: string };
const aiRows = (home: string, origin?: string): AiRow[] =>
  withStore(home, (s) =>
    s.db
      .prepare<[], AiRow>('SELECT origin, seq, question FROM ai_history ORDER BY origin, seq')
      .all()
      .filter((r) => origin === undefined || r.origin === origin),
  );

test('first-day history: commands and AI questions from before init/join move under the new name, in order, and reach the peer', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', { text: 'It is Tuesday.' });
  const firstDay = (name: string) => [
    `echo ${name}-one`,
    `/ask what is ${name} for`,
    `echo ${name}-two`,
    `/show stats`,
  ];
  const net = await createNetwork(t, ['alpha', 'beta'], {}, async (name, home) => {
    const userHome = join(home, '..', `${name}-user`);
    mkdirSync(userHome, { recursive: true });
    const env = { ...process.env, ISAAC_HOME: home, HOME: userHome };
    withStore(home, (s) => {
      s.config.set('ai.provider', 'ollama');
      s.config.set('ai.ollama.base_url', fake.baseUrl);
    });
    const ran = await runIsaac({ home, userHome, env }, [], `${firstDay(name).join('\n')}\n`);
    assert.equal(ran.status, 0, ran.stderr);
    // recorded under the host's name, as `npm start` on a new machine does
    assert.deepEqual(
      rows(home).map((r) => r.origin),
      firstDay(name).map(() => defaultMachineName()),
    );
    assert.deepEqual(aiRows(home), [
      { origin: defaultMachineName(), seq: 1, question: `what is ${name} for` },
    ]);
  });
  const { alpha, beta } = net.homes as { alpha: string; beta: string };

  for (const [name, home] of [
    ['alpha', alpha],
    ['beta', beta],
  ] as const) {
    assert.deepEqual(
      rows(home),
      firstDay(name).map((command, i) => ({ origin: name, seq: i + 1, command })),
      `${name}: the first day is its own series now, in the order typed`,
    );
    assert.deepEqual(aiRows(home), [{ origin: name, seq: 1, question: `what is ${name} for` }]);
  }
  // running it again (a second init/join attempt, a restart) changes nothing
  const before = rows(alpha);
  assert.equal(
    withStore(alpha, (s) => adoptEarlierHistory(s, 'alpha')),
    0,
  );
  assert.deepEqual(rows(alpha), before);

  await startNodeProc(t, alpha);
  await startNodeProc(t, beta);
  await waitAllOnline([alpha, beta], ['alpha', 'beta']);
  await waitFor(
    () =>
      rows(beta, 'alpha').length === 4 &&
      rows(alpha, 'beta').length === 4 &&
      aiRows(beta, 'alpha').length === 1 &&
      aiRows(alpha, 'beta').length === 1,
    'each machine holds the other’s first day',
    60_000,
  );
  assert.deepEqual(rows(beta, 'alpha'), rows(alpha, 'alpha'));
  assert.deepEqual(rows(alpha, 'beta'), rows(beta, 'beta'));
  assert.deepEqual(aiRows(beta, 'alpha'), aiRows(alpha, 'alpha'));
  assert.deepEqual(aiRows(alpha, 'beta'), aiRows(beta, 'beta'));
});
