import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { checkCommandLine, inTurn, PROGRAM_BINS, type ProgramRun, runProgram } from '../helpers/programs.ts';
import { tempDir } from '../helpers/tmp.ts';

test('isaac: --version, --help on every command, an unknown flag refused with one line', async (t) => {
  await checkCommandLine(
    t,
    'isaac',
    { tier: ['ls'], import: ['bash'], invite: ['beta'], revoke: ['beta'] },
    'tier',
  );
});

test('isaac invite --hours names the flag and the bad value', async (t) => {
  const r = await runProgram(t, 'isaac', ['invite', 'beta', '--hours', 'abc']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^isaac: --hours: "abc" is not a number.*: see isaac invite --help\n$/);
});

test('isaac: a reader that goes away ends it quietly with status 0 (SIGPIPE semantics)', async (t) => {
  const [read, gone] = await inTurn([
    () => runProgram(t, 'isaac', ['-c', '/show machines']),
    () => runProgram(t, 'isaac', ['-c', '/show machines'], { closeStdout: true }),
  ]);
  assert.notEqual(read!.stdout, '', 'it writes to stdout when someone reads it');
  assert.deepEqual(gone, { status: 0, stdout: '', stderr: '' });

  // a real pipe that closes while the command is still writing
  const home = tempDir(t);
  const piped = await new Promise<ProgramRun>((done) => {
    const child = spawn(
      'bash',
      ['-c', `node "${PROGRAM_BINS.isaac}" -c 'seq 1 200000' | head -1; echo "status \${PIPESTATUS[0]}"`],
      { env: { ...process.env, ISAAC_HOME: home, HOME: home }, cwd: home },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
  assert.deepEqual(piped, { status: 0, stdout: '1\nstatus 0\n', stderr: '' });
});
