import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_HELP, DEFAULT_CONFIG, flagName, loadConfig } from '../../broker/config.ts';
import { UsageError } from '../../schemas/errors.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { checkCommandLine, inTurn, runProgram } from '../helpers/programs.ts';
import { tempDir } from '../helpers/tmp.ts';

test('isaac-broker: --version, --help on every command, an unknown flag refused', async (t) => {
  await checkCommandLine(t, 'isaac-broker', { init: [], start: [], status: [], observer: ['list'] }, 'start');
});

test('every numeric flag names the flag and the bad value as typed', async (t) => {
  const dir = tempDir(t);
  const numeric = (Object.keys(DEFAULT_CONFIG) as (keyof typeof DEFAULT_CONFIG)[]).filter(
    (key) => typeof DEFAULT_CONFIG[key] === 'number',
  );
  assert.ok(numeric.length >= 10, `ports and limits: ${numeric.join(', ')}`);
  for (const key of numeric) {
    assert.throws(
      () => loadConfig(dir, { [key]: 'abc' }, {}),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message.startsWith(`${flagName(key)} must be`) &&
        err.message.endsWith('got "abc"') &&
        err.toLine().includes(CONFIG_HELP[key]),
      key,
    );
  }
  const r = await runProgram(t, 'isaac-broker', ['start', '--data', dir, '--max-payload', 'abc']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^isaac-broker: --max-payload must be a positive number, got "abc": [^\n]*\n$/);
});

test('isaac-broker status: a reader that goes away ends it quietly with status 0', async (t) => {
  const broker = await startTestBroker(t);
  const args = ['status', '--data', broker.dataDir];
  const [read, gone] = await inTurn([
    () => runProgram(t, 'isaac-broker', args),
    () => runProgram(t, 'isaac-broker', args, { closeStdout: true }),
  ]);
  assert.equal(read!.status, 0, read!.stderr);
  assert.match(read!.stdout, /^isaac-broker running/);
  assert.deepEqual(gone, { status: 0, stdout: '', stderr: '' });
});
