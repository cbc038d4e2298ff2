import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../../../node/core/store/store.ts';
import type { CommandIO } from '../../../node/shell/commands/types.ts';
import { runImportCommand } from '../../../node/shell/history-import/cli.ts';
import { importHistory } from '../../../node/shell/history-import/import.ts';
import type { UsageError } from '../../../schemas/errors.ts';
import { tempDir } from '../../helpers/tmp.ts';

/**
 * Atuin's client schema (crates/atuin-client/migrations): the history table as created in
 * 20210422143411_create_history.sql, plus deleted_at (20230319185725_deleted_at.sql) and the
 * author/intent columns added later; timestamps and durations in nanoseconds.
 */
const ATUIN_SCHEMA = `
  create table if not exists history (
    id text primary key,
    timestamp integer not null,
    duration integer not null,
    exit integer not null,
    command text not null,
    cwd text not null,
    session text not null,
    hostname text not null,
    unique(timestamp, cwd, command)
  );
  create index if not exists idx_history_timestamp on history(timestamp);
  create index if not exists idx_history_command on history(command);
  alter table history add column deleted_at integer;
  alter table history add column author text;
  alter table history add column intent text;
`;

const NS = 1_000_000n;
const me = `${hostname()}:ann`;

function atuinDb(dir: string): string {
  const file = join(dir, 'history.db');
  const db = new Database(file);
  db.exec(ATUIN_SCHEMA);
  const insert = db.prepare(
    'insert into history(id, timestamp, duration, exit, command, cwd, session, hostname, deleted_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const row = (
    id: string,
    ms: number,
    durMs: number,
    exit: number,
    cmd: string,
    host = me,
    deleted: bigint | null = null,
  ) =>
    insert.run(
      id,
      BigInt(ms) * NS,
      durMs < 0 ? -1 : BigInt(durMs) * NS,
      exit,
      cmd,
      '/home/ann/src',
      'sess',
      host,
      deleted,
    );
  row('0190a1b2c3d4e5f60718293a4b5c6d01', 1_700_000_000_000, 1200, 0, 'cargo build');
  row('0190a1b2c3d4e5f60718293a4b5c6d02', 1_700_000_005_000, 30, 101, 'cargo test');
  row('0190a1b2c3d4e5f60718293a4b5c6d03', 1_700_000_009_000, -1, -1, 'vim src/main.rs'); // still running
  row('0190a1b2c3d4e5f60718293a4b5c6d04', 1_700_000_010_000, 5, 0, 'export TOKEN=hunter2-s3cret-value');
  row('0190a1b2c3d4e5f60718293a4b5c6d05', 1_700_000_011_000, 5, 0, ' secret-on-purpose');
  row(
    '0190a1b2c3d4e5f60718293a4b5c6d06',
    1_700_000_012_000,
    5,
    0,
    'rm -rf build',
    me,
    1_700_000_013_000n * NS,
  );
  row('0190a1b2c3d4e5f60718293a4b5c6d07', 1_700_000_014_000, 5, 0, 'uptime', 'desktop:ann');
  row('0190a1b2c3d4e5f60718293a4b5c6d08', 1_700_000_015_000, 5, 0, 'echo \u0001\u0002binary');
  db.prepare(
    "insert into history(id, timestamp, duration, exit, command, cwd, session, hostname) values ('bad-ts', 'yesterday', 0, 0, 'ls', '/', 's', ?)",
  ).run(me);
  db.close();
  return file;
}

function quietIO(): CommandIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    isTTY: false,
    columns: 80,
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
    confirm: async () => false,
  };
  return io;
}

test('isaac import atuin: this host’s rows with times, durations, exits and cwd; deleted, other hosts and malformed rows counted', async (t) => {
  const dir = tempDir(t);
  const file = atuinDb(dir);
  const store = openStore(join(dir, 'isaac-home'));
  t.after(() => store.close());
  const summary = await importHistory(store, { shell: 'atuin', file });
  assert.deepEqual(summary, {
    shell: 'atuin',
    file,
    imported: 4,
    duplicates: 0,
    malformed: 2,
    skipped: 1,
    deleted: 1,
    otherHosts: 1,
  });
  const rows = store.history.recent(100).reverse();
  assert.deepEqual(
    rows.map((r) => [r.ts, r.command, r.duration_ms, r.exit, r.cwd, r.source, r.kind]),
    [
      [1_700_000_000_000, 'cargo build', 1200, 0, '/home/ann/src', 'import', 'shell'],
      [1_700_000_005_000, 'cargo test', 30, 101, '/home/ann/src', 'import', 'shell'],
      [1_700_000_009_000, 'vim src/main.rs', null, null, '/home/ann/src', 'import', 'shell'],
      [1_700_000_010_000, 'export TOKEN=[REDACTED]', 5, 0, '/home/ann/src', 'import', 'shell'],
    ],
  );

  // again: nothing new; --all-hosts adds the other host's row only
  const io = quietIO();
  assert.equal(await runImportCommand(['atuin', file], { store, io, env: {}, assumeYes: false }), 0);
  assert.equal(
    io.stdout,
    `imported 0 commands from atuin history ${file} (4 already imported, 2 malformed skipped, ` +
      '1 space-prefixed skipped, 1 deleted in Atuin skipped, 1 from other hosts skipped (--all-hosts takes them))\n',
  );
  const all = await importHistory(store, { shell: 'atuin', file, allHosts: true });
  assert.equal(all.imported, 1);
  assert.equal(all.duplicates, 4);
  assert.equal(store.history.count(), 5);

  // auto with the file recognises the database; the default file is under XDG_DATA_HOME
  const sniffed = await importHistory(store, { shell: 'auto', file });
  assert.equal(sniffed.shell, 'atuin');
  const home = tempDir(t);
  const io2 = quietIO();
  const code = await runImportCommand(['atuin'], { store, io: io2, env: { HOME: home }, assumeYes: false });
  assert.equal(code, 1);
  assert.match(io2.stderr, new RegExp(`no atuin history at ${home}/.local/share/atuin/history.db`));
});

test('a file that is not an Atuin database is one clear line and changes nothing', async (t) => {
  const dir = tempDir(t);
  const store = openStore(join(dir, 'isaac-home'));
  t.after(() => store.close());
  const text = join(dir, 'history.db');
  writeFileSync(text, 'not a database at all, just text\n'.repeat(10));
  await assert.rejects(importHistory(store, { shell: 'atuin', file: text }), /is not a SQLite database/);
  const other = join(dir, 'other.db');
  const db = new Database(other);
  db.exec('create table notes(id integer primary key, body text)');
  db.close();
  await assert.rejects(importHistory(store, { shell: 'atuin', file: other }), (err: UsageError) => {
    assert.equal(
      err.toLine(),
      `${other} has no Atuin history table (missing id, timestamp, duration, exit, command, cwd, hostname): ` +
        'give Atuin’s history.db: isaac import atuin FILE',
    );
    return true;
  });
  assert.equal(store.history.count(), 0);
});
