import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { smallDisk, smallDiskUnavailable } from '../helpers/full-disk.ts';
import { IsaacTerminal, isaacEnv, runIsaac } from '../helpers/isaac.ts';

const ENTER = '\r';
const NOT_RECORDED = /history is not being recorded/g;

function recordedCommands(home: string): string[] {
  const db = new Database(join(home, 'isaac.db'), { readonly: true });
  try {
    return db
      .prepare<[], { command: string }>('SELECT command FROM commands ORDER BY seq')
      .all()
      .map((r) => r.command);
  } finally {
    db.close();
  }
}

const noDisk = smallDiskUnavailable();

/** An isaacEnv whose ISAAC_HOME lives on the small disk. */
function isaacEnvIn(t: Parameters<typeof isaacEnv>[0], dir: string) {
  const home = join(dir, 'home');
  return { ...isaacEnv(t, { ISAAC_HOME: home }), home };
}

describe('the shell runs commands when history cannot be written', () => {
  test(`a full disk: isaac -c runs the line, exits with its status, says once why${noDisk ? ` (skipped: ${noDisk})` : ''}`, {
    skip: noDisk,
  }, async (t) => {
    const disk = smallDisk(t);
    const ienv = isaacEnvIn(t, disk.dir);
    assert.equal((await runIsaac(ienv, ['-c', 'echo before'])).status, 0);
    disk.fill();

    const hi = await runIsaac(ienv, ['-c', 'echo hi']);
    assert.equal(hi.stdout, 'hi\n');
    assert.equal(hi.status, 0, hi.stderr);
    assert.equal(hi.stderr.match(NOT_RECORDED)?.length, 1, hi.stderr);
    assert.match(hi.stderr, /the disk is full/);
    assert.match(hi.stderr, new RegExp(join(disk.dir, 'home', 'isaac.db')));

    const failing = await runIsaac(ienv, ['-c', 'exit_with() { return $1; }; exit_with 3']);
    assert.equal(failing.status, 3, 'the exit status is the command’s, not the store’s');

    disk.free();
    const after = await runIsaac(ienv, ['-c', 'echo after']);
    assert.equal(after.status, 0);
    assert.doesNotMatch(after.stderr, NOT_RECORDED);
    assert.deepEqual(recordedCommands(ienv.home), ['echo before', 'echo after']);
  });

  test(`a full disk before the first run: a fresh ISAAC_HOME still runs the line${noDisk ? ` (skipped: ${noDisk})` : ''}`, {
    skip: noDisk,
  }, async (t) => {
    const disk = smallDisk(t);
    const ienv = isaacEnvIn(t, disk.dir);
    disk.fill();
    const hi = await runIsaac(ienv, ['-c', 'echo hi']);
    assert.equal(hi.stdout, 'hi\n');
    assert.equal(hi.status, 0, hi.stderr);
    assert.equal(hi.stderr.match(NOT_RECORDED)?.length, 1, hi.stderr);
  });

  test('a read-only database file: the line runs and one line says history is not recorded', async (t) => {
    const ienv = isaacEnv(t);
    assert.equal((await runIsaac(ienv, ['-c', 'echo before'])).status, 0);
    const file = join(ienv.home, 'isaac.db');
    chmodSync(file, 0o444);
    // root writes through 0444; the immutable attribute stops root too
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync('chattr', ['+i', file]);
    try {
      const hi = await runIsaac(ienv, ['-c', 'echo hi']);
      assert.equal(hi.stdout, 'hi\n');
      assert.equal(hi.status, 0, hi.stderr);
      assert.equal(hi.stderr.match(NOT_RECORDED)?.length, 1, hi.stderr);
      assert.match(hi.stderr, /read-only/);
    } finally {
      if (asRoot) execFileSync('chattr', ['-i', file]);
      chmodSync(file, 0o600);
    }
    assert.deepEqual(recordedCommands(ienv.home), ['echo before']);
  });

  test(`an open shell on a disk that fills: no [1], one notice, recording resumes when space is back${noDisk ? ` (skipped: ${noDisk})` : ''}`, {
    skip: noDisk,
  }, async (t) => {
    const disk = smallDisk(t, '4m');
    const ienv = isaacEnvIn(t, disk.dir);
    mkdirSync(ienv.home, { recursive: true });
    await runIsaac(ienv, ['-c', '/set config machine.name testbox']);
    const term = new IsaacTerminal(t, ienv);
    await term.waitForText('testbox:~$ ');

    disk.fill();
    let mark = term.mark();
    term.write(`echo one-while-full${ENTER}`);
    await term.waitForText(/one-while-full\r*\n[\s\S]*testbox:~\$ /, mark);
    const afterFirst = term.plain.slice(mark);
    assert.doesNotMatch(afterFirst, /\[1\]/, afterFirst);
    assert.doesNotMatch(afterFirst, /this is a bug/, afterFirst);
    assert.equal(afterFirst.match(NOT_RECORDED)?.length, 1, afterFirst);

    mark = term.mark();
    term.write(`echo two-while-full${ENTER}`);
    await term.waitForText(/two-while-full\r*\n[\s\S]*testbox:~\$ /, mark);
    assert.doesNotMatch(term.plain.slice(mark), NOT_RECORDED, 'said once, not on every command');

    disk.free();
    mark = term.mark();
    term.write(`echo three-with-space${ENTER}`);
    await term.waitForText(/being recorded again \(3 held lines saved\)[\s\S]*testbox:~\$ /, mark);
    term.write(`/exit${ENTER}`);
    assert.equal(await term.waitForExit(), 0);
    const recorded = recordedCommands(ienv.home);
    assert.deepEqual(
      recorded.filter((c) => c.startsWith('echo ')),
      ['echo one-while-full', 'echo two-while-full', 'echo three-with-space'],
    );
  });
});
