import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ISAAC_BIN, IsaacTerminal, isaacEnv } from '../helpers/isaac.ts';
import { createNetwork, startNodeProc, waitAllOnline, withStore } from '../helpers/node-procs.ts';
import { waitFor } from '../helpers/tmp.ts';

const CTRL_C = '\x03';

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function remoteExit(home: string, marker: string): number | null | undefined {
  return withStore(home, (s) =>
    s.db
      .prepare<[string], { exit: number | null }>(
        "SELECT exit FROM commands WHERE source = 'remote:alpha' AND command LIKE ?",
      )
      .get(`%${marker}%`),
  )?.exit;
}

test('Ctrl-C in the isaac prompt cancels a running !exec on its target: prompt back at once with [130], process group gone', async (t) => {
  const net = await createNetwork(t, ['alpha', 'beta']);
  const alpha = net.homes.alpha!;
  const beta = net.homes.beta!;
  await startNodeProc(t, alpha);
  await startNodeProc(t, beta);
  await waitAllOnline([alpha, beta], ['alpha', 'beta']);

  const term = new IsaacTerminal(t, isaacEnv(t, { ISAAC_HOME: alpha }));
  await term.waitForText('alpha:~$ ', 0, 30_000);
  const marker = `done-${randomBytes(4).toString('hex')}`;
  let mark = term.mark();
  term.write(`!exec beta echo "pgid $$"; sleep 30; echo ${marker}\r`);
  await term.waitForText(/pgid \d+/, mark, 30_000);
  const pgid = Number(/pgid (\d+)/.exec(term.plain.slice(mark))?.[1]);
  assert.ok(groupAlive(pgid), 'sleep runs on beta');

  mark = term.mark();
  const pressed = Date.now();
  term.write(CTRL_C);
  await term.waitForText('[130] alpha:~$ ', mark, 10_000);
  const waited = Date.now() - pressed;
  assert.ok(waited < 3000, `prompt back ${waited} ms after Ctrl-C`);
  assert.match(term.plain.slice(mark), /cancelled \(Ctrl-C\): sent a cancel to beta/);
  term.write(CTRL_C); // a second Ctrl-C at the prompt changes nothing
  await waitFor(() => !groupAlive(pgid), 'the process group on beta is gone', 15_000);
  await waitFor(() => remoteExit(beta, marker) !== undefined, 'beta recorded the command', 15_000);
  assert.equal(remoteExit(beta, marker), 130);
  assert.ok(!term.plain.includes(`\n${marker}`), 'done was never printed');
  term.write('/exit\r');
  await term.waitForExit();
});

test('isaac -c "!exec ..." interrupted: the command stops on the target too', async (t) => {
  const net = await createNetwork(t, ['alpha', 'beta']);
  const alpha = net.homes.alpha!;
  const beta = net.homes.beta!;
  await startNodeProc(t, alpha);
  await startNodeProc(t, beta);
  await waitAllOnline([alpha, beta], ['alpha', 'beta']);

  const marker = `done-${randomBytes(4).toString('hex')}`;
  const child = spawn(
    process.execPath,
    [ISAAC_BIN, '-c', `!exec beta echo "pgid $$"; sleep 30; echo ${marker}`],
    {
      env: { ...process.env, ISAAC_HOME: alpha },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const match = await waitFor(() => /pgid (\d+)/.exec(out), 'the command started on beta', 30_000);
  const pgid = Number(match?.[1]);
  assert.ok(groupAlive(pgid));
  child.kill('SIGINT');
  await exited;
  await waitFor(() => !groupAlive(pgid), 'the process group on beta is gone', 15_000);
  await waitFor(() => remoteExit(beta, marker) !== undefined, 'beta recorded the command', 15_000);
  assert.equal(remoteExit(beta, marker), 130);
  assert.ok(!out.includes(marker));
});
