import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCommandLine, inTurn, runProgram } from '../helpers/programs.ts';

const INIT = ['--broker', 'mqtts://127.0.0.1:1', '--fingerprint', 'x', '--setup-token', 'y', '--name', 'a'];

test('isaac-node: --version, --help on every command, an unknown flag refused (start does not start)', async (t) => {
  await checkCommandLine(
    t,
    'isaac-node',
    { init: INIT, join: ['isaac1-code'], start: [], status: [], reload: [] },
    'start',
  );
  // a typo is named even where required flags are missing too
  const typo = await runProgram(t, 'isaac-node', ['init', '--brokr', 'mqtts://nas:8883']);
  assert.deepEqual(typo, {
    status: 2,
    stdout: '',
    stderr: 'isaac-node: unknown option --brokr: see isaac-node init --help\n',
  });
});

test('isaac-node status: a reader that goes away ends it quietly with status 0', async (t) => {
  const [read, gone] = await inTurn([
    () => runProgram(t, 'isaac-node', ['status']),
    () => runProgram(t, 'isaac-node', ['status'], { closeStdout: true }),
  ]);
  assert.equal(read!.status, 3, 'not running');
  assert.match(read!.stdout, /^isaac-node is not running/);
  assert.deepEqual(gone, { status: 0, stdout: '', stderr: '' });
});
