import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { paths } from '../../../node/core/paths.ts';
import { commandKind } from '../../../node/core/store/command-kind.ts';
import { MIGRATIONS } from '../../../node/core/store/migrations.ts';
import { openStore } from '../../../node/core/store/store.ts';
import { isaacEnv, runIsaac } from '../../helpers/isaac.ts';
import { tempDir } from '../../helpers/tmp.ts';

type Row = { command: string; kind: string; exit: number | null };
const rowsOf = (stdout: string): Row[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);

test('/, ! and isaac lines are recorded with their kind; /search --type filters; /history is /show history', async (t) => {
  const ienv = isaacEnv(t);
  const script = [
    'echo plain-shell',
    'isaac tier ls -la',
    '/show stats',
    '!exec beta uptime', // no network: refused, still recorded with its status
    '/set config ai.openai.key not-a-pattern-the-redactor-knows',
    '/forget plain-secret-word',
    ' /show config', // a leading space: not recorded, as for shell lines
    '',
  ].join('\n');
  await runIsaac(ienv, ['--yes'], script);

  const all = await runIsaac(ienv, ['-c', ' /show history 50 --json']);
  const rows = rowsOf(all.stdout);
  assert.deepEqual(
    rows.map((r) => [r.command, r.kind, r.exit]),
    [
      ['echo plain-shell', 'shell', 0],
      ['isaac tier ls -la', 'slash', 0],
      ['/show stats', 'slash', 0],
      ['!exec beta uptime', 'bang', 2],
      ['/set config ai.openai.key [REDACTED]', 'slash', 0],
    ],
  );
  assert.ok(!all.stdout.includes('not-a-pattern'), 'a secret config value never reaches history');
  assert.ok(!all.stdout.includes('plain-secret-word'), '/forget does not record what it forgets');

  const search = async (args: string) => {
    const r = await runIsaac(ienv, ['-c', ` /search ${args} --json`]);
    return rowsOf(r.stdout).map((h) => h.command);
  };
  assert.deepEqual(await search('--type bang'), ['!exec beta uptime']);
  assert.deepEqual(await search('--type shell'), ['echo plain-shell']);
  assert.deepEqual((await search('--type slash')).sort(), [
    '/set config ai.openai.key [REDACTED]',
    '/show stats',
    'isaac tier ls -la',
  ]);
  assert.deepEqual(await search('--type remote'), []);
  assert.deepEqual(await search('stats --type slash'), ['/show stats']);
  const bad = await runIsaac(ienv, ['-c', ' /search x --type weird']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown --type "weird": give one of shell, slash, bang, ai, remote/);

  // /history [n] is /show history [n], and is itself recorded as a / command
  const short = await runIsaac(ienv, ['-c', '/history 2 --json']);
  assert.equal(short.status, 0, short.stderr);
  assert.deepEqual(
    rowsOf(short.stdout).map((r) => r.command),
    ['!exec beta uptime', '/set config ai.openai.key [REDACTED]'],
  );
  assert.deepEqual(await search('history --type slash'), ['/history 2 --json']);
});

test('kinds: derived the same way from text and source; migration 5 fills them in for old rows', (t) => {
  assert.equal(commandKind('ls -la'), 'shell');
  assert.equal(commandKind('/show history'), 'slash');
  assert.equal(commandKind('/ask how big is /var'), 'ai');
  assert.equal(commandKind('/explain'), 'ai');
  assert.equal(commandKind('!beta uptime'), 'bang');
  assert.equal(commandKind('isaac find big files'), 'ai');
  assert.equal(commandKind('isaac import zsh'), 'slash');
  assert.equal(commandKind('isaacson --version'), 'shell');
  assert.equal(commandKind('uptime', 'remote:alpha'), 'remote');
  assert.equal(commandKind('/usr/bin/ls', 'import'), 'shell', 'an imported bash line is a shell command');

  // a database as the previous version left it (migrations 1 to 4), with old rows
  const home = tempDir(t);
  openStore(home).close(); // creates the home and file
  const file = paths.database(home);
  const old = new Database(file);
  old.exec('DROP TABLE commands_fts; DROP TABLE commands; DROP TABLE config;');
  for (const table of [
    'machines',
    'outbox',
    'messages',
    'pending_ai',
    'ai_history',
    'seen_ids',
    'sync_state',
    'tombstones',
    'roster_invites',
    'ai_tombstones',
    'broker_login',
  ]) {
    old.exec(`DROP TABLE ${table}`);
  }
  for (const m of MIGRATIONS.filter((m) => m.version <= 4)) old.exec(m.sql);
  old.pragma('user_version = 4');
  const insert = old.prepare('INSERT INTO commands(origin, seq, ts, command, source) VALUES (?, ?, ?, ?, ?)');
  insert.run('laptop', 1, 1, 'make test', 'shell');
  insert.run('laptop', 2, 2, 'uptime', 'remote:desktop');
  insert.run('laptop', 3, 3, '/show history', 'script');
  insert.run('desktop', 1, 4, 'isaac find big files', 'shell');
  insert.run('desktop', 2, 5, '  !beta uptime', 'shell');
  old.close();

  const store = openStore(home);
  t.after(() => store.close());
  const kinds = store.db
    .prepare<[], { command: string; kind: string }>('SELECT command, kind FROM commands ORDER BY ts')
    .all()
    .map((r) => [r.command, r.kind]);
  assert.deepEqual(kinds, [
    ['make test', 'shell'],
    ['uptime', 'remote'],
    ['/show history', 'slash'],
    ['isaac find big files', 'ai'],
    ['  !beta uptime', 'bang'],
  ]);
  // records arriving from a peer get their kind the same way
  store.history.insertRemote([
    { origin: 'desktop', seq: 3, ts: 6, command: '/sync force' },
    { origin: 'desktop', seq: 4, ts: 7, command: 'df -h', source: 'remote:laptop' },
  ]);
  assert.deepEqual(
    store.history.recent(2).map((r) => [r.command, r.kind]),
    [
      ['df -h', 'remote'],
      ['/sync force', 'slash'],
    ],
  );
});
