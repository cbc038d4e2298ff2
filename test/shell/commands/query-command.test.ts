import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runIsaac } from '../../helpers/isaac.ts';
import { createNetwork, startNodeProc, waitAllOnline, withStore } from '../../helpers/node-procs.ts';
import { waitFor } from '../../helpers/tmp.ts';

const asMachine = (home: string) => ({ home, userHome: home, env: { ...process.env, ISAAC_HOME: home } });
const countOf = (home: string, sql: string) =>
  withStore(home, (s) => (s.db.prepare(sql).get() as { n: number }).n);

test('!query finds a command only the online peer had, names the offline machine, merges without doubles', async (t) => {
  const names = ['alpha', 'beta', 'gamma'];
  const net = await createNetwork(t, names);
  const [alpha, beta, gamma] = [net.homes.alpha!, net.homes.beta!, net.homes.gamma!];
  const procs = { alpha: await startNodeProc(t, alpha), beta: await startNodeProc(t, beta) };
  const gammaProc = await startNodeProc(t, gamma);
  await waitAllOnline([alpha, beta, gamma], names);

  withStore(beta, (s) => {
    s.history.record({ command: 'launch-rocket --stage 1', exit: 0, cwd: '/pad' });
    s.history.record({ command: 'launch-rocket --stage 2', exit: 3, cwd: '/pad' });
  });
  withStore(alpha, (s) => s.history.record({ command: 'launch-rocket --dry-run', exit: 0, cwd: '/home' }));
  await waitFor(
    () => countOf(alpha, 'SELECT COUNT(*) AS n FROM commands') === 3,
    'alpha holds beta’s commands by live sync',
  );
  await gammaProc.kill();
  await waitFor(
    () => withStore(alpha, (s) => s.machines.get('gamma')?.status) === 'offline',
    'alpha sees gamma offline',
  );
  // alpha loses beta's rows (a restored backup): only beta has them now
  withStore(alpha, (s) => s.db.prepare("DELETE FROM commands WHERE origin = 'beta'").run());
  // (each line starts with a space: the queries stay out of the history they search)
  const local = await runIsaac(asMachine(alpha), ['-c', ' /search launch-rocket --machine beta']);
  assert.equal(local.status, 1, 'the local cache alone does not find it');

  const q = await runIsaac(asMachine(alpha), ['-c', ' !query launch-rocket']);
  assert.equal(q.status, 0, q.stderr);
  const lines = q.stdout.trim().split('\n');
  assert.equal(lines.length, 4, q.stdout);
  assert.deepEqual(
    lines
      .slice(0, 3)
      .map((l) => l.split(/\s{2,}/)[0])
      .sort(),
    ['alpha', 'beta', 'beta'],
  );
  assert.match(q.stdout, /^beta\s.*\/pad\s+3\s+launch-rocket --stage 2$/m);
  assert.match(q.stdout, /^beta\s.*\/pad\s+0\s+launch-rocket --stage 1$/m);
  assert.equal(lines[3], 'answered: beta · offline: gamma (2 new from peers)');
  // stored once each, and a second query finds them locally and doubles nothing
  const again = await runIsaac(asMachine(alpha), ['-c', ' !query launch-rocket --json']);
  assert.equal(again.status, 0, again.stderr);
  const json = again.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const tail = json.pop() as { machines: { answered: string[]; offline: string[] }; fromPeers: number };
  assert.deepEqual(tail.machines.answered, ['beta']);
  assert.deepEqual(tail.machines.offline, ['gamma']);
  assert.equal(tail.fromPeers, 0);
  assert.deepEqual(json.map((h) => `${h.machine}#${h.seq}`).sort(), ['alpha#1', 'beta#1', 'beta#2']);
  assert.equal(countOf(alpha, "SELECT COUNT(*) AS n FROM commands WHERE origin = 'beta'"), 2);

  // the same filters as /search
  const failed = await runIsaac(asMachine(alpha), ['-c', ' !query launch-rocket --failed']);
  assert.equal(failed.status, 0, failed.stderr);
  assert.equal(failed.stdout.trim().split('\n').length, 2);
  assert.match(failed.stdout, /launch-rocket --stage 2/);
  const none = await runIsaac(asMachine(alpha), ['-c', ' !query launch-rocket --machine gamma']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^no command matching "launch-rocket" on gamma$/m);
  const bad = await runIsaac(asMachine(alpha), ['-c', ' !query rocket --exit nope']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--exit needs a number/);

  // beta offline too, then no daemon at all: local results, said plainly
  await procs.beta.kill();
  await waitFor(() => withStore(alpha, (s) => s.machines.get('beta')?.status) === 'offline', 'beta offline');
  const alone = await runIsaac(asMachine(alpha), ['-c', ' !query launch-rocket']);
  assert.equal(alone.status, 0, alone.stderr);
  assert.equal(alone.stdout.trim().split('\n').at(-1), 'offline: beta, gamma');
  await procs.alpha.kill();
  const noDaemon = await runIsaac(asMachine(alpha), ['-c', ' !query launch-rocket']);
  assert.equal(noDaemon.status, 0, noDaemon.stderr);
  assert.equal(noDaemon.stdout.trim().split('\n').length, 4);
  assert.match(noDaemon.stdout, /^isaac-node is not running on this machine: .*: local results only$/m);
});
