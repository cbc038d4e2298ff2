import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitArgs } from '../../../node/core/args.ts';
import { openStore, type Store } from '../../../node/core/store/store.ts';
import { findSlashCommand } from '../../../node/shell/commands/registry.ts';
import type { CommandContext } from '../../../node/shell/commands/types.ts';
import { tempDir } from '../../helpers/tmp.ts';

const HOUR = 3_600_000;

function setup(t: Parameters<typeof tempDir>[0]): Store {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  store.config.set('machine.name', 'laptop');
  const now = Date.now();
  store.history.insertRemote([
    { origin: 'nas', seq: 1, ts: now - 30 * HOUR, command: 'git status', cwd: '/home/u/src', exit: 0 },
    { origin: 'nas', seq: 2, ts: now - 2 * HOUR, command: 'make deploy', cwd: '/srv', exit: 2 },
    { origin: 'desk', seq: 1, ts: now - HOUR, command: 'git push origin main', cwd: '/home/u/src', exit: 0 },
    {
      origin: 'desk',
      seq: 2,
      ts: now - 60_000,
      command: 'printf "\\033[2J" secret\u001b[31m',
      cwd: '/tmp',
      exit: 0,
    },
  ]);
  store.history.record({ command: 'ls -la', cwd: '/home/u', exit: 0, ts: now - 10_000 });
  return store;
}

async function run(store: Store, line: string, options: { tty?: boolean; answer?: boolean } = {}) {
  let out = '';
  let err = '';
  const asked: string[] = [];
  const ctx: CommandContext = {
    store,
    env: { HOME: '/home/u' },
    assumeYes: false,
    io: {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
      isTTY: options.tty ?? false,
      columns: 80,
      confirm: async (question) => {
        asked.push(question);
        return options.answer ?? false;
      },
    },
  };
  const found = findSlashCommand(splitArgs(line.replace(/^\//, '')));
  assert.ok(found, `no command for ${line}`);
  const status = await found.command.run(found.args, ctx);
  return { status, out, err, asked };
}

test('/search shows machine, when, cwd, exit and the command; highlight only on a TTY', async (t) => {
  const store = setup(t);
  const plain = await run(store, '/search git');
  assert.equal(plain.status, 0);
  const lines = plain.out.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^nas\s+1d ago\s+~\/src {2}0 {2}git status$/, 'the closer match first');
  assert.match(lines[1]!, /^desk\s+1h ago\s+~\/src {2}0 {2}git push origin main$/);
  assert.doesNotMatch(plain.out, /\x1b/);
  const tty = await run(store, '/search git', { tty: true });
  assert.match(tty.out, /\x1b\[1;33mgit\x1b\[0m push/);
});

test('/search filters, --json lines and an empty result that says so', async (t) => {
  const store = setup(t);
  const failed = await run(store, '/search --failed --since "1 day ago"');
  assert.match(failed.out, /nas.*\b2\s+make deploy/);
  assert.equal(failed.out.trimEnd().split('\n').length, 1);
  const json = await run(store, '/search git --machine nas --json');
  const rows = json.out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    rows.map((r) => [r.machine, r.command, r.exit, r.cwd]),
    [['nas', 'git status', 0, '/home/u/src']],
  );
  const none = await run(store, '/search kubectl --machine desk');
  assert.equal(none.status, 1);
  assert.equal(none.out, '');
  assert.match(none.err, /no command matching "kubectl" on desk/);
  const bad = await run(store, '/search git --since tomorrowish');
  assert.equal(bad.status, 2);
  assert.match(bad.err, /cannot read "tomorrowish" as a date/);
  assert.equal((await run(store, '/search git --machine Bad_Name')).status, 2);
  assert.equal((await run(store, '/search git --limit 0')).status, 2);
  assert.equal((await run(store, '/search')).status, 2);
  const inSrc = await run(store, '/search --cwd ~/src --json');
  assert.deepEqual(
    inSrc.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).command)
      .sort(),
    ['git push origin main', 'git status'],
    '~ is the home directory',
  );
  const phrase = await run(store, '/search "origin main"');
  assert.match(phrase.out, /git push origin main/);
});

test('a command from another machine cannot drive the terminal', async (t) => {
  const store = setup(t);
  const { out } = await run(store, '/search secret', { tty: true });
  assert.doesNotMatch(out.replace(/\x1b\[(1;33|0|2|31)m/g, ''), /\x1b/);
  assert.match(out, /secret\x1b\[0m·\[31m\n$/, 'the escape is shown as ·');
});

test('/show history: every machine by default, oldest first, --machine and n', async (t) => {
  const store = setup(t);
  const all = await run(store, '/show history');
  const machines = all.out
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(machines, ['nas', 'nas', 'desk', 'desk', 'laptop']);
  const two = await run(store, '/show history 2 --machine nas --json');
  assert.deepEqual(
    two.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).command),
    ['git status', 'make deploy'],
  );
  assert.equal((await run(store, '/show history x')).status, 2);
  assert.match((await run(store, '/show history --machine ghost')).out, /no commands from ghost/);
});

test('/show stats counts per machine, top commands and draws the activity', async (t) => {
  const store = setup(t);
  const { out, status } = await run(store, '/show stats week');
  assert.equal(status, 0);
  assert.match(out, /^5 commands in the last week/);
  assert.match(out, /Per machine\n {2}desk\s+2 +█+\n {2}nas\s+2 +█+\n {2}laptop\s+1 +█+/);
  assert.match(out, /Top commands\n {2}git\s+2 /);
  const activity = out.split('Activity (per day)\n')[1]!.trimEnd().split('\n');
  assert.equal(activity.length, 7);
  assert.ok(activity.every((l) => l.length <= 80));
  const json = JSON.parse((await run(store, '/show stats all --json')).out);
  assert.equal(json.total, 5);
  assert.equal((await run(store, '/show stats fortnight')).status, 2);
});

test('/forget asks with the count; no deletes nothing, yes deletes everywhere here', async (t) => {
  const store = setup(t);
  const no = await run(store, '/forget git', { answer: false });
  assert.equal(no.status, 1);
  assert.deepEqual(no.asked, ['Forget 2 commands on every machine?']);
  assert.equal(store.history.count(), 5);
  const yes = await run(store, '/forget git', { answer: true });
  assert.equal(yes.status, 0);
  assert.match(yes.out, /forgot 2 commands/);
  assert.equal(store.history.count(), 3);
  assert.match((await run(store, '/search git')).err, /no command/);
  const none = await run(store, '/forget git');
  assert.equal(none.status, 1);
  assert.deepEqual(none.asked, []);
});
