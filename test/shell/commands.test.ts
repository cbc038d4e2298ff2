import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXIT } from '../../schemas/cli.ts';
import { isaacEnv, runIsaac } from '../helpers/isaac.ts';

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').at(-1)!) as T;

describe('/ commands', () => {
  test('/set config validates: unknown key or bad value is one clear line and changes nothing', async (t) => {
    const ienv = isaacEnv(t);
    const unknown = await runIsaac(ienv, ['-c', '/set config remote.max_teir 3']);
    assert.equal(unknown.status, EXIT.config);
    assert.match(unknown.stderr, /^isaac: unknown config key "remote.max_teir": see \/show config/);
    assert.equal(unknown.stderr.trim().split('\n').length, 1);
    const bad = await runIsaac(ienv, ['-c', '/set config remote.max_tier 4']);
    assert.equal(bad.status, EXIT.config);
    assert.match(bad.stderr, /invalid value "4" for remote.max_tier: use one of/);
    const before = lastJson<Array<{ key: string; value: string }>>(
      (await runIsaac(ienv, ['-c', '/show config --json'])).stdout,
    );
    assert.equal(before.find((e) => e.key === 'remote.max_tier')?.value, '2');

    const good = await runIsaac(ienv, ['-c', '/set config remote.max_tier 3']);
    assert.equal(good.status, 0, good.stderr);
    const after = lastJson<Array<{ key: string; value: string; isDefault: boolean }>>(
      (await runIsaac(ienv, ['-c', '/show config --json'])).stdout,
    );
    const entry = after.find((e) => e.key === 'remote.max_tier');
    assert.deepEqual([entry?.value, entry?.isDefault], ['3', false]);
  });

  test('tier overrides via /set config tier.<command> change classification', async (t) => {
    const ienv = isaacEnv(t);
    assert.equal((await runIsaac(ienv, ['-c', '/set config tier.make 3'])).status, 0);
    const result = await runIsaac(ienv, ['tier', '--json', 'make install']);
    assert.equal(lastJson<{ tier: number }>(result.stdout).tier, 3);
    const refused = await runIsaac(ienv, ['-c', 'make --version']);
    assert.equal(refused.status, 126, 'overridden to tier 3, so it asks and -c without --yes refuses');
  });

  test('/show config masks API keys', async (t) => {
    const ienv = isaacEnv(t);
    await runIsaac(ienv, ['-c', '/set config ai.anthropic.key sk-ant-api03-ThisIsNotARealKey1234567890']);
    const shown = await runIsaac(ienv, ['-c', '/show config']);
    assert.ok(!shown.stdout.includes('ThisIsNotARealKey'), shown.stdout);
    assert.match(shown.stdout, /ai\.anthropic\.key/);
  });

  test('/show config shows machine.name also at its default (the host name in use)', async (t) => {
    const ienv = isaacEnv(t);
    const shown = await runIsaac(ienv, ['-c', '/show config --json']);
    const entries = JSON.parse(shown.stdout) as { key: string; value: string; isDefault: boolean }[];
    const name = entries.find((e) => e.key === 'machine.name');
    const status = lastJson<{ machine: string }>(
      (await runIsaac(ienv, ['-c', ' /show status --json'])).stdout,
    );
    assert.deepEqual(name && [name.value, name.isDefault], [status.machine, true]);
  });

  test('/clear history asks; without a terminal it deletes nothing unless --yes, and nothing comes back', async (t) => {
    const ienv = isaacEnv(t);
    await runIsaac(ienv, [], 'echo one\necho two\n');
    // a leading space keeps the line itself out of history, as for shell lines
    const status = () =>
      runIsaac(ienv, ['-c', ' /show status --json']).then((r) => lastJson<{ commands: number }>(r.stdout));
    assert.equal((await status()).commands, 2);
    const declined = await runIsaac(ienv, ['-c', ' /clear history']);
    assert.equal(declined.status, 1);
    assert.equal((await status()).commands, 2);
    const cleared = await runIsaac(ienv, ['--yes', '-c', '/clear history']);
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.match(cleared.stdout, /deleted 2 commands/);
    assert.equal((await status()).commands, 0);
    await runIsaac(ienv, ['-c', 'echo three']);
    const history = await runIsaac(ienv, ['-c', '/show history --json']);
    assert.ok(!history.stdout.includes('echo one'));
  });

  test('unknown / command and unknown option are clear errors', async (t) => {
    const ienv = isaacEnv(t);
    const unknown = await runIsaac(ienv, ['-c', '/shwo status']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command \/shwo status: see \/help/);
    const option = await runIsaac(ienv, ['-c', '/show status --jsn']);
    assert.equal(option.status, 2);
    assert.match(option.stderr, /unknown option --jsn/);
  });

  test('/help lists the commands', async (t) => {
    const ienv = isaacEnv(t);
    const help = await runIsaac(ienv, ['-c', '/help']);
    for (const name of ['/show history', '/set config', '/clear history', '!exec', 'isaac tier']) {
      assert.ok(help.stdout.includes(name), `${name} in /help`);
    }
  });

  test('/show status --json describes this machine', async (t) => {
    const ienv = isaacEnv(t, { HOSTNAME: 'ignored' });
    await runIsaac(ienv, ['-c', '/set config machine.name laptop']);
    const status = lastJson<{ machine: string; network: string; commands: number }>(
      (await runIsaac(ienv, ['-c', '/show status --json'])).stdout,
    );
    assert.equal(status.machine, 'laptop');
    assert.equal(status.network, 'none');
  });

  test('! commands without a network say so and change nothing', async (t) => {
    const ienv = isaacEnv(t);
    for (const line of ['!exec laptop uptime', '!msg laptop hi', '!status laptop']) {
      const result = await runIsaac(ienv, ['-c', line]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /no network configured: run `isaac-node init`/);
    }
    const status = lastJson<{ outbox: number }>((await runIsaac(ienv, ['-c', '/show status --json'])).stdout);
    assert.equal(status.outbox, 0);
  });
});
