import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAEMON_NOT_RUNNING, type SyncSummary } from '../../../node/ipc/client.ts';
import { progressRenderer } from '../../../node/shell/commands/sync-command.ts';
import type { CommandIO } from '../../../node/shell/commands/types.ts';
import { IsaacTerminal, isaacEnv, runIsaac } from '../../helpers/isaac.ts';
import {
  clientFor,
  createNetwork,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../../helpers/node-procs.ts';
import { waitFor } from '../../helpers/tmp.ts';

function dump(home: string): string[] {
  return withStore(home, (s) =>
    s.db
      .prepare<[], { origin: string; seq: number; command: string }>(
        'SELECT origin, seq, command FROM commands ORDER BY origin, seq',
      )
      .all()
      .map((r) => `${r.origin}#${r.seq} ${r.command}`),
  );
}

const asMachine = (home: string) => ({ home, userHome: home, env: { ...process.env, ISAAC_HOME: home } });

/** The table rows of /sync output as [peer, sent, received]. */
function rows(stdout: string): string[][] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => !/^(peer|catch-up)/.test(l))
    .map((l) => l.split(/\s{2,}/).slice(0, 3));
}

test('/sync: per-peer counts, both machines hold the same rows; /sync force ends with the same rows, none doubled; a large catch-up draws a bar on a TTY; no daemon: exit 2', async (t) => {
  const names = ['alpha', 'beta'];
  const net = await createNetwork(t, names);
  const [alpha, beta] = [net.homes.alpha!, net.homes.beta!];
  const procs = [await startNodeProc(t, alpha), await startNodeProc(t, beta)];
  await waitAllOnline([alpha, beta], names);
  withStore(alpha, (s) => {
    for (let i = 1; i <= 5; i++) s.history.record({ command: `make step-${i}`, exit: 0, cwd: '/src' });
  });
  withStore(beta, (s) => {
    for (let i = 1; i <= 3; i++) s.history.record({ command: `ls beta-${i}`, exit: 0, cwd: '/tmp' });
  });
  await waitFor(() => dump(alpha).length === 8 && dump(beta).length === 8, 'live sync of 8 rows');

  // alpha loses beta's rows (a restored backup): live sync will not bring them back, /sync does
  withStore(alpha, (s) => s.db.prepare("DELETE FROM commands WHERE origin = 'beta'").run());
  assert.equal(dump(alpha).length, 5);
  // a leading space keeps each /sync line out of the history whose rows this test counts
  const synced = await runIsaac(asMachine(alpha), ['-c', ' /sync']);
  assert.equal(synced.status, 0, synced.stderr);
  assert.match(synced.stdout, /^peer\s+sent\s+received\s+state/m);
  assert.deepEqual(rows(synced.stdout), [
    ['beta', '0', '3'],
    ['total', '0', '3'],
  ]);
  assert.match(synced.stdout, /beta\s+0\s+3\s+online, answered/);
  assert.deepEqual(dump(alpha), dump(beta));
  assert.equal(dump(alpha).length, 8);

  // nothing left to do: zeros, as JSON for scripts
  const again = await runIsaac(asMachine(alpha), ['-c', ' /sync --json']);
  assert.equal(again.status, 0, again.stderr);
  const summary = JSON.parse(again.stdout) as SyncSummary;
  assert.deepEqual(summary.peers, { beta: { sent: 0, received: 0, online: true, answered: true } });
  assert.equal(summary.settled, true);
  assert.equal(summary.force, false);

  // force: alpha sends its whole series again and beta answers from zero; no row is doubled
  const forced = await runIsaac(asMachine(beta), ['-c', ' /sync force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /^catch-up from zero \(force\)$/m);
  assert.deepEqual(rows(forced.stdout), [
    ['alpha', '3', '0'],
    ['total', '3', '0'],
  ]);
  assert.deepEqual(dump(alpha), dump(beta));
  for (const home of [alpha, beta]) {
    const { n, keys } = withStore(home, (s) =>
      s.db
        .prepare<[], { n: number; keys: number }>(
          "SELECT COUNT(*) AS n, COUNT(DISTINCT origin || '#' || seq) AS keys FROM commands",
        )
        .get(),
    )!;
    assert.deepEqual([n, keys], [8, 8]);
  }

  // the IPC op streams progress and then the summary
  const client = await clientFor(t, alpha);
  const progress: unknown[] = [];
  const viaClient = await client.sync({ force: true }, (p) => progress.push(p));
  assert.equal(viaClient.peers.beta?.sent, 5);
  assert.equal(viaClient.peers.beta?.received, 0);
  assert.ok(progress.length >= 1, 'at least one progress event');
  assert.deepEqual(progress.at(-1), { beta: { sent: 5, received: 0 } });
  // odd values from a local client fall back to defaults: no force, no endless wait
  const odd = await client.sync({ force: 'yes', quietMs: -5, timeoutMs: Number.NaN } as never);
  assert.deepEqual([odd.force, odd.settled, odd.peers.beta?.sent], [false, true, 0]);
  client.close();

  // a large catch-up in the interactive shell: a bar drawn in place (\r), then the table
  const BIG = 10_000;
  withStore(beta, (s) =>
    s.history.recordMany(Array.from({ length: BIG }, (_, i) => ({ command: `bulk-${i}`, exit: 0 }))),
  );
  await waitFor(() => dump(alpha).length === 8 + BIG, 'live sync of the bulk', 60_000);
  withStore(alpha, (s) => s.db.prepare("DELETE FROM commands WHERE origin = 'beta'").run());
  const term = new IsaacTerminal(t, {
    home: alpha,
    userHome: alpha,
    env: { ...process.env, ISAAC_HOME: alpha, HOME: alpha, TERM: 'xterm-256color' },
  });
  await term.waitForText('alpha:~$ ');
  const mark = term.mark();
  term.write(' /sync\r');
  await term.waitForText(/total\s+0\s+10003/, mark, 60_000);
  const raw = term.output.slice(term.output.lastIndexOf('/sync'));
  assert.match(raw, /\r\x1b\[Ksyncing \[[ =]{24}\] \d+ records {2}beta ↓\d+ ↑0/);
  assert.match(term.plain.slice(mark), /beta\s+0\s+10003\s+online, answered/);
  term.write('/exit\r');
  await term.waitForExit();
  assert.equal(dump(alpha).length, 8 + BIG);
  assert.deepEqual(dump(alpha), dump(beta));

  await procs[0]!.kill();
  const down = await runIsaac(asMachine(alpha), ['-c', ' /sync']);
  assert.equal(down.status, 2);
  assert.equal(down.stderr.trim(), DAEMON_NOT_RUNNING);
  assert.equal(down.stdout, '');
});

test('/sync without a network: the one-line message, exit 2; a stray argument is refused', async (t) => {
  const ienv = isaacEnv(t);
  const r = await runIsaac(ienv, ['-c', ' /sync']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^no network configured: run `isaac-node init`/);
  const bad = await runIsaac(ienv, ['-c', ' /sync everything']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown argument "everything"/);
});

test('/sync progress bar: drawn in place on a TTY once a catch-up takes a while, cleared at the end; never without a TTY', () => {
  let clock = 0;
  const written: string[] = [];
  const io = (isTTY: boolean): CommandIO => ({
    out: (s) => written.push(s),
    err: (s) => written.push(s),
    isTTY,
    columns: 100,
    confirm: async () => false,
  });
  const tty = progressRenderer(io(true), () => clock);
  tty.update({ beta: { sent: 0, received: 10 } });
  assert.equal(written.length, 0, 'a quick small sync draws nothing');
  tty.update({ beta: { sent: 0, received: 1500 } });
  assert.equal(written.length, 1, 'a large one draws at once');
  written.length = 0;
  clock = 1000;
  tty.update({ beta: { sent: 0, received: 4000 }, gamma: { sent: 2, received: 0 } });
  tty.update({ beta: { sent: 0, received: 9000 }, gamma: { sent: 2, received: 0 } });
  assert.equal(written.length, 2);
  for (const line of written)
    assert.match(line, /^\r\x1b\[Ksyncing \[[ =]{24}\] \d+ records {2}beta ↓\d+ ↑0 {2}gamma ↓0 ↑2$/);
  assert.match(written[1]!, /9002 records/);
  assert.notEqual(written[0]!.slice(0, 40), written[1]!.slice(0, 40), 'the bar moves');
  tty.clear();
  assert.equal(written.at(-1), '\r\x1b[K');

  written.length = 0;
  const plain = progressRenderer(io(false), () => clock);
  clock = 5000;
  plain.update({ beta: { sent: 1, received: 1 } });
  plain.clear();
  assert.deepEqual(written, []);
});
