import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { CommandRecord } from '../../../node/core/store/history.ts';
import { openStore, type Store } from '../../../node/core/store/store.ts';
import type { CommandContext, CommandIO } from '../../../node/shell/commands/types.ts';
import { runImportCommand } from '../../../node/shell/history-import/cli.ts';
import { importHistory } from '../../../node/shell/history-import/import.ts';
import { tempDir } from '../../helpers/tmp.ts';

function storeIn(t: Parameters<typeof tempDir>[0]): { store: Store; dir: string; home: string } {
  const dir = tempDir(t);
  const home = join(dir, 'isaac-home');
  const store = openStore(home);
  store.config.set('machine.name', 'importer-box');
  t.after(() => store.close());
  return { store, dir, home };
}

/** Rows in file order (import keeps the file's order in ts, then id). */
function rows(store: Store): CommandRecord[] {
  return store.history.recent(100_000).reverse();
}

function writeHistory(path: string, content: string | Buffer, mtimeSec = 1_750_000_000): string {
  writeFileSync(path, content);
  utimesSync(path, mtimeSec, mtimeSec);
  return path;
}

function captureIO(isTTY: boolean): CommandIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    isTTY,
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

function context(store: Store, io: CommandIO, env: NodeJS.ProcessEnv = {}): CommandContext {
  return { store, io, env, assumeYes: false };
}

const INVALID_UTF8 = Buffer.from([0x65, 0x63, 0x68, 0x6f, 0x20, 0xff, 0xfe, 0xc3]);

describe('bash history', () => {
  test('plain lines: counts, order, file-mtime times, leading space and garbage skipped', async (t) => {
    const { store, dir } = storeIn(t);
    const file = writeHistory(
      join(dir, '.bash_history'),
      Buffer.concat([
        Buffer.from('ls -la\ncd /srv\n ssh secret-host\n'),
        INVALID_UTF8,
        Buffer.from('\nprintf "\x00\x01\x02binary"\ngit status\r\n\nmake test\n'),
      ]),
    );
    const summary = await importHistory(store, { shell: 'bash', file });
    assert.deepEqual(summary, { shell: 'bash', file, imported: 4, duplicates: 0, malformed: 2, skipped: 1 });
    const got = rows(store);
    assert.deepEqual(
      got.map((r) => r.command),
      ['ls -la', 'cd /srv', 'git status', 'make test'],
    );
    for (const r of got) {
      assert.equal(r.origin, 'importer-box');
      assert.equal(r.machine_id, 'importer-box');
      assert.equal(r.source, 'import');
    }
    // no timestamps in the file: 1 ms apart, ending just before the file's mtime
    assert.deepEqual(
      got.map((r) => r.ts),
      [1_750_000_000_000 - 4, 1_750_000_000_000 - 3, 1_750_000_000_000 - 2, 1_750_000_000_000 - 1],
    );
    assert.deepEqual(
      got.map((r) => r.seq),
      [1, 2, 3, 4],
    );
  });

  test('HISTTIMEFORMAT timestamps: times from the file, multi-line entries kept whole', async (t) => {
    const { store, dir } = storeIn(t);
    const file = writeHistory(
      join(dir, 'hist'),
      '#1700000000\nls\n#1700000060\nfor i in 1 2; do\n  echo $i\ndone\n#1700000120\n echo hidden\n#1700000180\npwd\n',
    );
    const summary = await importHistory(store, { shell: 'bash', file });
    assert.equal(summary.imported, 3);
    assert.equal(summary.skipped, 1);
    assert.deepEqual(
      rows(store).map((r) => [r.ts, r.command]),
      [
        [1_700_000_000_000, 'ls'],
        [1_700_000_060_000, 'for i in 1 2; do\n  echo $i\ndone'],
        [1_700_000_180_000, 'pwd'],
      ],
    );
  });
});

describe('zsh history', () => {
  test('extended format, multi-line commands, broken headers, metafied bytes, plain lines', async (t) => {
    const { store, dir } = storeIn(t);
    // zsh stores "Ä" (c3 84) metafied: c3 83 a4
    const metafied = Buffer.concat([
      Buffer.from(': 1700000300:0;echo '),
      Buffer.from([0xc3, 0x83, 0xa4]),
      Buffer.from('\n'),
    ]);
    const file = writeHistory(
      join(dir, '.zsh_history'),
      Buffer.concat([
        Buffer.from(
          [
            ': 1700000000:0;git status',
            ': 1700000010:3;for f in a b\\',
            'do\\',
            '  echo $f\\',
            'done',
            ': notatime:0;broken header',
            ': 1700000020;missing elapsed',
            ': 1700000030:0; echo space-prefixed',
            ': 1700000040:1;mysql -u root -pZshS3cret db',
            '',
          ].join('\n'),
        ),
        metafied,
        Buffer.from(': 1700000400:0;'),
        INVALID_UTF8,
        Buffer.from('\n: 1700000500:0;echo last\n'),
      ]),
    );
    const summary = await importHistory(store, { shell: 'zsh', file });
    assert.deepEqual(summary, { shell: 'zsh', file, imported: 5, duplicates: 0, malformed: 3, skipped: 1 });
    assert.deepEqual(
      rows(store).map((r) => [r.ts, r.command]),
      [
        [1_700_000_000_000, 'git status'],
        [1_700_000_010_000, 'for f in a b\ndo\n  echo $f\ndone'],
        [1_700_000_040_000, 'mysql -u root -p[REDACTED] db'],
        [1_700_000_300_000, 'echo Ä'],
        [1_700_000_500_000, 'echo last'],
      ],
    );
    // zsh's elapsed seconds are the duration
    assert.deepEqual(
      rows(store).map((r) => r.duration_ms),
      [0, 3000, 1000, 0, 0],
    );
  });

  test('in an extended history, a line without the header is counted malformed, not imported', async (t) => {
    const { store, dir } = storeIn(t);
    const file = writeHistory(
      join(dir, '.zsh_history'),
      ': 1700000000:2;make\nstray line without a header\n: 1700000010:0;make test\n',
    );
    const summary = await importHistory(store, { shell: 'zsh', file });
    assert.deepEqual(summary, { shell: 'zsh', file, imported: 2, duplicates: 0, malformed: 1, skipped: 0 });
    assert.deepEqual(
      rows(store).map((r) => [r.command, r.duration_ms]),
      [
        ['make', 2000],
        ['make test', 0],
      ],
    );
    const io = captureIO(false);
    assert.equal(await runImportCommand(['zsh', file], context(store, io)), 0);
    assert.match(io.stdout, /\(2 already imported, 1 malformed skipped\)/);
  });

  test('plain zsh lines (no extended history) import one per line', async (t) => {
    const { store, dir } = storeIn(t);
    const file = writeHistory(join(dir, 'zh'), 'ls\n: > truncate-me.log\nprint -l a\\\nb\n');
    const summary = await importHistory(store, { shell: 'zsh', file });
    assert.equal(summary.imported, 3);
    assert.deepEqual(
      rows(store).map((r) => r.command),
      ['ls', ': > truncate-me.log', 'print -l a\nb'],
    );
  });

  test('the same command twice in one second stays two records; re-import still adds nothing', async (t) => {
    const { store, dir } = storeIn(t);
    const file = writeHistory(join(dir, 'zh'), ': 1700000000:0;ls\n: 1700000000:0;ls\n: 1700000000:0;pwd\n');
    assert.equal((await importHistory(store, { shell: 'zsh', file })).imported, 3);
    const again = await importHistory(store, { shell: 'zsh', file });
    assert.equal(again.imported, 0);
    assert.equal(again.duplicates, 3);
    assert.equal(store.history.count(), 3);
  });
});

describe('fish history', () => {
  test('entries with escapes, paths, a missing cmd and a broken when', async (t) => {
    const { store, dir } = storeIn(t);
    const file = writeHistory(
      join(dir, 'fish_history'),
      [
        '- cmd: echo hello',
        '  when: 1700000000',
        '- cmd: printf "a\\\\nb" \\\\ and\\nsecond line',
        '  when: 1700000100',
        '  paths:',
        '    - /tmp/a',
        '- when: 1700000200',
        '- cmd: set -gx DB_PASSWORD Fi5hPw',
        '  when: 1700000300',
        '- cmd: echo broken when',
        '  when: yesterday',
        '- cmd: ls ~/no-when',
        '',
      ].join('\n'),
    );
    const summary = await importHistory(store, { shell: 'fish', file });
    assert.deepEqual(summary, { shell: 'fish', file, imported: 4, duplicates: 0, malformed: 2, skipped: 0 });
    assert.deepEqual(
      rows(store).map((r) => [r.ts, r.command]),
      [
        [1_700_000_000_000, 'echo hello'],
        [1_700_000_100_000, 'printf "a\\nb" \\ and\nsecond line'],
        [1_700_000_300_000, 'set -gx DB_PASSWORD [REDACTED]'],
        [1_700_000_300_000, 'ls ~/no-when'],
      ],
    );
  });
});

describe('idempotence, secrets and errors', () => {
  test('re-importing the same file adds nothing, also after new lines were appended', async (t) => {
    const { store, dir } = storeIn(t);
    const path = join(dir, '.bash_history');
    writeHistory(path, 'ls\npwd\nls\n');
    assert.equal((await importHistory(store, { shell: 'bash', file: path })).imported, 3);
    const second = await importHistory(store, { shell: 'bash', file: path });
    assert.deepEqual([second.imported, second.duplicates], [0, 3]);
    writeHistory(path, 'ls\npwd\nls\nuptime\n', 1_750_000_100);
    const third = await importHistory(store, { shell: 'bash', file: path });
    assert.deepEqual([third.imported, third.duplicates], [1, 3]);
    assert.equal(store.history.count(), 4);
  });

  test('secrets in imported lines never reach the database file', async (t) => {
    const { store, dir, home } = storeIn(t);
    const secrets = [
      'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
      'Imp0rtPw',
      'hunter2pass',
      'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z',
    ];
    const file = writeHistory(
      join(dir, '.zsh_history'),
      [
        `: 1700000000:0;git clone https://${secrets[0]}@github.com/me/repo.git`,
        `: 1700000001:0;export DB_PASSWORD=${secrets[1]}`,
        `: 1700000002:0;psql postgres://admin:${secrets[2]}@db.local/app`,
        `: 1700000003:0;curl -H "Authorization: Bearer ${secrets[3]}" https://api.example.com`,
        '',
      ].join('\n'),
    );
    assert.equal((await importHistory(store, { shell: 'zsh', file })).imported, 4);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = Buffer.concat(readdirSync(home).map((f) => readFileSync(join(home, f))));
    for (const s of secrets) assert.equal(bytes.indexOf(Buffer.from(s)), -1, `${s} reached the database`);
    assert.ok(rows(store).every((r) => r.command.includes('[REDACTED]')));
  });

  test('a missing file is one clear error, exit 1, and the database is unchanged', async (t) => {
    const { store, dir } = storeIn(t);
    store.history.record({ command: 'echo before' });
    const missing = join(dir, 'nope', '.zsh_history');
    await assert.rejects(importHistory(store, { shell: 'zsh', file: missing }), (err: Error) => {
      assert.equal(
        (err as { toLine?: () => string }).toLine?.(),
        `no zsh history at ${missing}: give the file: isaac import zsh FILE`,
      );
      return true;
    });
    const io = captureIO(false);
    const code = await runImportCommand(['zsh', missing], context(store, io));
    assert.equal(code, 1);
    assert.equal(io.stdout, '');
    assert.match(io.stderr, new RegExp(`no zsh history at ${missing}: give the file: isaac import zsh FILE`));
    assert.equal(io.stderr.trim().split('\n').length, 1, 'one line');
    assert.deepEqual(
      rows(store).map((r) => r.command),
      ['echo before'],
    );
  });

  test('an unreadable path (a directory) and bad arguments are refused without changes', async (t) => {
    const { store, dir } = storeIn(t);
    const io = captureIO(false);
    assert.equal(await runImportCommand(['bash', dir], context(store, io)), 1);
    assert.match(io.stderr, /is not a file/);
    const io2 = captureIO(false);
    assert.equal(await runImportCommand(['tcsh'], context(store, io2)), 2);
    assert.match(io2.stderr, /unknown shell tcsh.*isaac import bash\|zsh\|fish\|atuin\|auto/);
    assert.equal(store.history.count(), 0);
  });
});

describe('isaac import command', () => {
  test('prints the summary, and on a TTY draws an in-place progress bar that ends cleared', async (t) => {
    const { store, dir } = storeIn(t);
    const lines = Array.from({ length: 12_000 }, (_, i) => `: ${1_700_000_000 + i}:0;echo line ${i}`);
    const file = writeHistory(join(dir, '.zsh_history'), `${lines.join('\n')}\n`);
    const io = captureIO(true);
    assert.equal(await runImportCommand(['zsh', file], context(store, io)), 0);
    assert.equal(
      io.stdout,
      `imported 12000 commands from zsh history ${file} (0 already imported, 0 malformed skipped)\n`,
    );
    assert.match(io.stderr, /^\r\[[#.]+\] +\d+% \d+\/12000/);
    assert.match(io.stderr, /\r\[#+\] 100% 12000\/12000/);
    assert.ok(io.stderr.endsWith('\r\x1b[K'), 'the bar is cleared at the end');
    assert.ok(!io.stderr.includes('\n'), 'the bar never scrolls');
    assert.equal(store.history.count(), 12_000);

    const quiet = captureIO(false);
    assert.equal(await runImportCommand(['zsh', file], context(store, quiet)), 0);
    assert.equal(quiet.stderr, '', 'no progress bar without a TTY');
    assert.match(quiet.stdout, /imported 0 commands .*\(12000 already imported/);
  });

  test('onProgress reports growing counts up to the total', async (t) => {
    const { store, dir } = storeIn(t);
    const file = writeHistory(
      join(dir, 'h'),
      `${Array.from({ length: 11_000 }, (_, i) => `cmd ${i}`).join('\n')}\n`,
    );
    const seen: Array<[number, number]> = [];
    await importHistory(store, { shell: 'bash', file, onProgress: (d, n) => seen.push([d, n]) });
    assert.ok(seen.length >= 3);
    assert.deepEqual(seen.at(-1), [11_000, 11_000]);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![0] >= seen[i - 1]![0]);
  });
});

describe('finding the history file', () => {
  test('auto picks the login shell from $SHELL and honours $HISTFILE for it', async (t) => {
    const { store, dir } = storeIn(t);
    const home = join(dir, 'home');
    mkdirSync(home);
    writeHistory(join(home, '.bash_history'), 'echo from-bash\n');
    const histfile = writeHistory(join(dir, 'custom-zsh-history'), ': 1700000000:0;echo from-histfile\n');
    const io = captureIO(false);
    const env = { HOME: home, SHELL: '/usr/bin/zsh', HISTFILE: histfile };
    assert.equal(await runImportCommand(['auto'], context(store, io, env)), 0);
    assert.match(io.stdout, new RegExp(`from zsh history ${histfile}`));
    // the zsh HISTFILE is not bash's file
    const io2 = captureIO(false);
    assert.equal(await runImportCommand(['bash'], context(store, io2, env)), 0);
    assert.match(
      io2.stdout,
      new RegExp(`imported 1 command from bash history ${join(home, '.bash_history')}`),
    );
    assert.deepEqual(
      rows(store).map((r) => r.command),
      ['echo from-histfile', 'echo from-bash'],
    );
  });

  test('fish uses $XDG_DATA_HOME; auto falls back to whichever shell has a history', async (t) => {
    const { store, dir } = storeIn(t);
    const data = join(dir, 'data');
    mkdirSync(join(data, 'fish'), { recursive: true });
    writeHistory(join(data, 'fish', 'fish_history'), '- cmd: echo from-fish\n  when: 1700000000\n');
    const env = { HOME: join(dir, 'empty-home'), SHELL: '/bin/bash', XDG_DATA_HOME: data };
    const summary = await importHistory(store, { shell: 'auto', env });
    assert.equal(summary.shell, 'fish');
    assert.equal(summary.file, join(data, 'fish', 'fish_history'));
    assert.equal(summary.imported, 1);
  });

  test('auto with a FILE sniffs the format from the content', async (t) => {
    const { store, dir } = storeIn(t);
    const file = writeHistory(join(dir, 'exported.txt'), ': 1700000000:0;echo sniffed\n');
    const summary = await importHistory(store, { shell: 'auto', file });
    assert.equal(summary.shell, 'zsh');
    assert.equal(rows(store)[0]!.ts, 1_700_000_000_000);
  });

  test('auto with no history anywhere says where it looked', async (t) => {
    const { store, dir } = storeIn(t);
    const io = captureIO(false);
    const code = await runImportCommand([], context(store, io, { HOME: dir, SHELL: '/bin/zsh' }));
    assert.equal(code, 1);
    assert.match(
      io.stderr,
      /no shell history found \(looked at .*\.zsh_history.*\): give the shell and file/,
    );
  });
});
