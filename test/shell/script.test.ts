import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { isaacEnv, runIsaac } from '../helpers/isaac.ts';

interface HistoryRow {
  command: string;
  exit: number;
  cwd: string;
  duration_ms: number;
  output: string;
  origin: string;
  seq: number;
}

/** The rows as stored: read straight from the SQLite file the shell wrote. */
function storedHistory(ienv: ReturnType<typeof isaacEnv>): HistoryRow[] {
  const db = new Database(join(ienv.home, 'isaac.db'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM commands ORDER BY id').all() as HistoryRow[];
  } finally {
    db.close();
  }
}

describe('isaac script mode and -c', () => {
  test('cd and export persist across lines of a script (the README example)', async (t) => {
    const ienv = isaacEnv(t);
    const result = await runIsaac(ienv, [], 'cd /tmp\nexport X=42\necho $X $(pwd)\n');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '42 /tmp\n');
  });

  test('aliases, functions and shell options persist; $? survives between lines', async (t) => {
    const ienv = isaacEnv(t);
    const script = [
      "alias hi='echo alias-works'",
      'greet() { echo "hello $1"; }',
      'shopt -s extglob',
      'hi',
      'greet isaac',
      'shopt -q extglob && echo extglob-on',
      'false',
      'echo $?',
    ].join('\n');
    const result = await runIsaac(ienv, [], `${script}\n`);
    assert.equal(result.stdout, 'alias-works\nhello isaac\nextglob-on\n1\n', result.stderr);
  });

  test('an alias or function named like a typo of a real command is run, not "corrected"', async (t) => {
    const ienv = isaacEnv(t);
    const result = await runIsaac(ienv, [], "alias ll='echo my-ll'\ngti() { echo my-gti; }\nll\ngti\n");
    assert.equal(result.stdout, 'my-ll\nmy-gti\n', result.stderr);
    assert.doesNotMatch(result.stderr, /corrected/);
  });

  test('-c exits with the line’s status, and exit N leaves with N', async (t) => {
    const ienv = isaacEnv(t);
    assert.equal((await runIsaac(ienv, ['-c', 'false'])).status, 1);
    assert.equal((await runIsaac(ienv, ['-c', 'sh -c "exit 7"'])).status, 7);
    assert.equal((await runIsaac(ienv, [], 'echo before\nexit 3\necho never\n')).status, 3);
  });

  test('commands read /dev/null, so a script never hangs on a command that reads stdin', async (t) => {
    const ienv = isaacEnv(t);
    const result = await runIsaac(ienv, [], 'cat\necho done\n', 20_000);
    assert.equal(result.stdout, 'done\n');
  });

  test('/show history --json lists what ran, newest first, one JSON object per line', async (t) => {
    const ienv = isaacEnv(t);
    await runIsaac(ienv, [], 'echo alpha\necho beta\n');
    const result = await runIsaac(ienv, ['-c', '/show history 5 --json']);
    assert.equal(result.status, 0, result.stderr);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { command: string; exit: number });
    assert.deepEqual(
      rows
        .map((r) => r.command)
        .filter((c) => c.startsWith('echo'))
        .sort(),
      ['echo alpha', 'echo beta'],
    );
  });

  test('history records exit, cwd, duration and bounded output; a leading space is not recorded', async (t) => {
    const ienv = isaacEnv(t);
    await runIsaac(ienv, [], 'cd /tmp\necho visible-output\n echo secret-line\nsh -c "exit 4"\nsleep 0.2\n');
    const rows = storedHistory(ienv);
    const commands = rows.map((r) => r.command);
    assert.ok(!commands.some((c) => c.includes('secret-line')), 'leading-space line must not be recorded');
    const echo = rows.find((r) => r.command === 'echo visible-output');
    assert.ok(echo, `echo recorded: ${commands.join(' | ')}`);
    assert.equal(echo.cwd, '/tmp');
    assert.equal(echo.exit, 0);
    assert.match(echo.output, /visible-output/);
    assert.equal(rows.find((r) => r.command === 'sh -c "exit 4"')?.exit, 4);
    assert.ok((rows.find((r) => r.command === 'sleep 0.2')?.duration_ms ?? 0) >= 150);
    const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      'one series numbered from 1',
    );
  });

  test('output kept in history is bounded by shell.output_limit', async (t) => {
    const ienv = isaacEnv(t);
    await runIsaac(ienv, ['-c', '/set config shell.output_limit 1000']);
    await runIsaac(ienv, ['-c', 'head -c 50000 /dev/zero | tr "\\0" x; echo END']);
    const row = storedHistory(ienv).find((r) => r.command.startsWith('head'));
    assert.ok(row);
    assert.ok(row.output.length <= 1000, `kept ${row.output.length} characters`);
    assert.match(row.output, /END/);
  });
});

describe('tiers at the shell', () => {
  test('tier 4 never runs, however it is dressed', async (t) => {
    const ienv = isaacEnv(t);
    const canary = join(ienv.userHome, 'canary');
    writeFileSync(canary, 'alive');
    for (const line of [
      'rm -rf ~',
      'rm -rf $HOME',
      '\\rm -rf ~/',
      'bash -c "rm -rf ~"',
      'echo ok && rm -rf ~',
    ]) {
      const result = await runIsaac(ienv, ['--yes', '-c', line]);
      assert.equal(result.status, 126, `${line}: ${result.stderr}`);
      assert.match(result.stderr, /tier 4/);
      assert.equal(result.stdout, '', `${line} must not run even partly`);
    }
    assert.ok(existsSync(canary), 'home directory untouched');
  });

  test('tier 3 without a terminal refuses unless --yes is given', async (t) => {
    const ienv = isaacEnv(t);
    const victim = join(ienv.userHome, 'notes.txt');
    writeFileSync(victim, 'x');
    const refused = await runIsaac(ienv, ['-c', `rm ${victim}`]);
    assert.equal(refused.status, 126);
    assert.match(refused.stderr, /tier 3/);
    assert.match(refused.stderr, /--yes/);
    assert.ok(existsSync(victim));
    const allowed = await runIsaac(ienv, ['--yes', '-c', `rm ${victim}`]);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.ok(!existsSync(victim));
  });

  test('a mistyped command name is corrected to the one close command on PATH', async (t) => {
    const ienv = isaacEnv(t);
    const bin = join(ienv.userHome, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'frobnicate-widget'), '#!/bin/sh\necho frobnicated "$@"\n', { mode: 0o755 });
    ienv.env.PATH = `${bin}:${ienv.env.PATH}`;
    const result = await runIsaac(ienv, ['-c', 'frobnicate-widgte now']);
    assert.equal(result.stdout, 'frobnicated now\n', result.stderr);
    assert.match(result.stderr, /corrected to: frobnicate-widget now/);
  });

  test('isaac tier prints tier and reason and runs nothing; --json ends with the JSON line', async (t) => {
    const ienv = isaacEnv(t);
    const canary = join(ienv.userHome, 'canary');
    writeFileSync(canary, 'alive');
    const human = await runIsaac(ienv, ['tier', `rm -rf ${ienv.userHome}`]);
    assert.equal(human.status, 0);
    assert.match(human.stdout, /tier [34]/);
    const json = await runIsaac(ienv, ['tier', '--json', 'rm -rf /']);
    const last = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as { tier: number; reason: string };
    assert.equal(last.tier, 4);
    assert.ok(last.reason.length > 0);
    const typo = await runIsaac(ienv, ['-c', 'isaac tier --json ls -la']);
    assert.ok([1, 2].includes((JSON.parse(typo.stdout.trim().split('\n').at(-1)!) as { tier: number }).tier));
    assert.ok(existsSync(canary));
  });
});
