import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { adoptEarlierHistory } from '../../../node/core/store/adopt-history.ts';
import { defaultMachineName } from '../../../node/core/store/store.ts';
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

test('first-day history: commands from before init/join move under the new name, in order, and reach the peer', async (t) => {
  const firstDay = (name: string) => [`echo ${name}-one`, `echo ${name}-two`, `/show stats`];
  const net = await createNetwork(t, ['alpha', 'beta'], {}, async (name, home) => {
    const userHome = join(home, '..', `${name}-user`);
    mkdirSync(userHome, { recursive: true });
    const env = { ...process.env, ISAAC_HOME: home, HOME: userHome };
    const ran = await runIsaac({ home, userHome, env }, [], `${firstDay(name).join('\n')}\n`);
    assert.equal(ran.status, 0, ran.stderr);
    // recorded under the host's name, as `npm start` on a new machine does
    assert.deepEqual(
      rows(home).map((r) => r.origin),
      firstDay(name).map(() => defaultMachineName()),
    );
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
    () => rows(beta, 'alpha').length === 3 && rows(alpha, 'beta').length === 3,
    'each machine holds the other’s first day',
    60_000,
  );
  assert.deepEqual(rows(beta, 'alpha'), rows(alpha, 'alpha'));
  assert.deepEqual(rows(alpha, 'beta'), rows(beta, 'beta'));
});
