/**
 * A tier-3 remote command needs a yes typed on the target (issue 11): with remote.max_tier 3 on
 * beta, alpha's `!exec beta rm FILE` is shown in the interactive isaac shell open on beta (a real
 * pty), with the sender and the exact command; `y` runs it, `n` refuses, no open shell refuses at
 * once, silence refuses at remote.confirm_timeout. Hostile tries: keys typed before the question
 * answer nothing, a command with control or invisible characters is refused without being shown,
 * a second question from the same sender waits for none, tier 4 is never asked.
 * Real broker, real isaac-node processes, a real pty running the isaac shell.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ExecEvent, NodeClient } from '../../node/ipc/client.ts';
import { type IsaacEnv, IsaacTerminal } from '../helpers/isaac.ts';
import {
  clientFor,
  createNetwork,
  runNodeCli,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../helpers/node-procs.ts';
import { tempDir, waitFor } from '../helpers/tmp.ts';

const cleanups: (() => unknown)[] = [];
const suite = { after: (fn: () => unknown) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

let alpha: NodeClient;
let betaHome: string;
let betaShellEnv: IsaacEnv;
let dir: string;

type Result = Extract<ExecEvent, { event: 'result' }> & { stderr: string };

/** alpha's `!exec beta CMD`: its result, and what came back on stderr. */
function exec(cmd: string): Promise<Result> {
  const events: ExecEvent[] = [];
  return alpha
    .exec({ targets: 'beta', cmd }, (e) => events.push(e))
    .done.then(() => {
      const result = events.find((e) => e.event === 'result');
      assert.ok(result?.event === 'result', JSON.stringify(events));
      const stderr = events.map((e) => (e.event === 'chunk' && e.stream === 'stderr' ? e.data : '')).join('');
      return { ...result, stderr };
    });
}

function victim(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, 'precious\n');
  return file;
}

/** Open isaac shells on beta that can answer, as beta's isaac-node counts them. */
async function shellsOnBeta(n: number): Promise<void> {
  await waitFor(
    async () =>
      new RegExp(`${n} isaac shells? open here to confirm tier 3`).test(
        (await runNodeCli(betaHome, ['status'])).stdout,
      ),
    `${n} confirming shell(s) on beta`,
    30_000,
  );
}

async function betaShell(): Promise<IsaacTerminal> {
  const term = new IsaacTerminal(suite, betaShellEnv);
  await term.waitForText('beta:~$ ', 0, 60_000);
  return term;
}

before(async () => {
  const net = await createNetwork(suite, ['alpha', 'beta']);
  betaHome = net.homes.beta!;
  await startNodeProc(suite, net.homes.alpha!);
  await startNodeProc(suite, betaHome);
  await waitAllOnline([net.homes.alpha!, betaHome], ['alpha', 'beta']);
  withStore(betaHome, (s) => {
    s.config.set('remote.max_tier', '3');
    s.config.set('remote.confirm_timeout', '30');
  });
  alpha = await clientFor(suite, net.homes.alpha!);
  dir = tempDir(suite);
  const userHome = join(tempDir(suite), 'home');
  mkdirSync(userHome);
  betaShellEnv = {
    home: betaHome,
    userHome,
    env: { ...process.env, ISAAC_HOME: betaHome, HOME: userHome, TERM: 'xterm-256color' },
  };
});

test('no isaac shell open on the target: a tier-3 command is refused at once, with the reason', async () => {
  const file = victim('no-shell');
  const began = Date.now();
  const r = await exec(`rm ${file}`);
  assert.equal(r.exit, 126);
  assert.match(
    r.refused?.reason ?? '',
    /^tier 3 \(deletes files\) needs a yes typed here: no isaac shell is open on beta/,
  );
  assert.ok(Date.now() - began < 20_000, 'not left waiting for the timeout');
  assert.ok(existsSync(file));
});

test('the shell on the target shows the sender and the exact command: y runs it, n refuses it', async () => {
  const term = await betaShell();
  await shellsOnBeta(1);
  const yes = victim('yes');
  let mark = term.mark();
  const ran = exec(`rm ${yes}`);
  // exactly the command that runs, alone on its line, under who asks
  await term.waitForText(
    new RegExp(`\\[alpha asks to run this on beta: tier 3, deletes files\\]\r*\n  rm ${yes}\r*\n`),
    mark,
  );
  await term.waitForText('run it here? y runs it, anything else refuses (30 s) [y/N] ', mark);
  term.write('y\r');
  const r = await ran;
  assert.equal(r.refused, undefined, r.refused?.reason);
  assert.equal(r.exit, 0);
  assert.equal(existsSync(yes), false, 'it ran on beta');
  assert.match(
    r.stderr,
    /^waiting up to 30 s for a yes typed in an isaac shell on this machine\n/,
    'alpha was told',
  );
  await term.waitForText('running it for alpha', mark);

  const no = victim('no');
  mark = term.mark();
  const refused = exec(`rm ${no}`);
  await term.waitForText('[y/N] ', mark);
  term.write('n\r');
  const r2 = await refused;
  assert.equal(r2.exit, 126);
  assert.match(r2.refused?.reason ?? '', /needs a yes typed here: declined on beta: the answer was no/);
  assert.ok(existsSync(no));
  await term.waitForText('refused; alpha is told', mark);
  term.write('/exit\r');
  await term.waitForExit(30_000);
});

test('hostile tries: keys typed before the question answer nothing; hidden characters are never shown; one question per sender; tier 4 is not asked', async () => {
  const term = await betaShell();
  await shellsOnBeta(1);

  // a y typed at the prompt before the question is part of the line being typed, not an answer;
  // the line comes back afterwards
  const pre = victim('pre-typed');
  let mark = term.mark();
  term.write('y');
  await term.waitForText('beta:~$ y', mark);
  mark = term.mark();
  const preRun = exec(`rm ${pre}`);
  await term.waitForText('[alpha asks to run this on beta', mark);
  // keys right after it appears are thrown away too (a burst typed before it could be read):
  // the answer prompt comes GUARD_MS later, and only what is typed then answers
  term.write('y\r');
  await term.waitForText('[y/N] ', mark);
  // a second tier-3 command from the same sender while this one waits is refused at once
  const second = victim('second');
  const r3 = await exec(`rm ${second}`);
  assert.match(
    r3.refused?.reason ?? '',
    /a command from alpha already waits for a yes on beta: one at a time/,
  );
  assert.ok(existsSync(second));
  assert.ok(existsSync(pre), 'the y typed before the prompt did not run it');
  term.write('n\r');
  const preResult = await preRun;
  assert.equal(preResult.exit, 126);
  assert.ok(existsSync(pre));
  await term.waitForText(/beta:~\$ y/, mark);
  term.write('\x15'); // Ctrl-U: drop the restored `y`

  // control characters that would redraw the line, and invisible direction overrides: refused
  // without a question, so what is shown can never differ from what runs
  mark = term.mark();
  const hidden = victim('hidden');
  for (const cmd of [
    `rm ${hidden}\r\x1b[2Kecho harmless`,
    `rm ${hidden} # \u202eetadpu`,
    `rm ${hidden}${' '.repeat(200)}echo`,
    `rm ${hidden}\necho harmless`,
  ]) {
    const r = await exec(cmd);
    assert.equal(r.exit, 126, JSON.stringify(cmd));
    assert.match(
      r.refused?.reason ?? '',
      /could hide what would run: not asked here|not proven safe|tier [34]/,
      JSON.stringify(cmd),
    );
  }
  assert.ok(existsSync(hidden));
  // tier 4 never runs and is never asked
  const t4 = await exec('rm -rf ~');
  assert.equal(t4.refused?.tier, 4);
  await new Promise((r) => setTimeout(r, 500));
  assert.doesNotMatch(term.plain.slice(mark), /asks to run this/, 'no question was shown for any of them');
  term.write('/exit\r');
  await term.waitForExit(30_000);
});

test('silence refuses: no answer within remote.confirm_timeout', async () => {
  withStore(betaHome, (s) => s.config.set('remote.confirm_timeout', '2'));
  const term = await betaShell();
  await shellsOnBeta(1);
  const file = victim('silence');
  const mark = term.mark();
  const r = await exec(`rm ${file}`);
  assert.equal(r.exit, 126);
  assert.match(r.refused?.reason ?? '', /nobody answered on beta within 2 s/);
  assert.ok(existsSync(file));
  await term.waitForText('(no answer in time: refused: the command from alpha did not run from here)', mark);
  // the prompt is back and usable
  const back = term.mark();
  term.write('echo still-here\r');
  await term.waitForText('still-here', back);
  term.write('/exit\r');
  await term.waitForExit(30_000);
  await shellsOnBeta(0);
});
