import assert from 'node:assert/strict';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { brokerPasswordPath, NETWORK_KEYS } from '../../../node/core/identity/settings.ts';
import { paths } from '../../../node/core/paths.ts';
import { runIsaac } from '../../helpers/isaac.ts';
import { createNetwork, runNodeCli, withStore } from '../../helpers/node-procs.ts';
import { tempDir } from '../../helpers/tmp.ts';

const INIT = [
  'init',
  '--broker',
  'mqtts://127.0.0.1:1',
  '--fingerprint',
  `sha256:${'ab'.repeat(32)}`,
  '--name',
  'alpha',
];

test('init/join --broker-password-file: bad files and mixed flags are one line each and change nothing', async (t) => {
  const dir = tempDir(t, 'isaac-static-');
  const home = join(dir, 'home');
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  const twoLines = join(dir, 'two');
  writeFileSync(twoLines, 'first\nsecond\n');
  const good = join(dir, 'good');
  writeFileSync(good, 'pw\n');
  const cases: [string[], RegExp][] = [
    [[...INIT, '--broker-password-file', join(dir, 'missing')], /password file .*missing cannot be read/],
    [[...INIT, '--broker-password-file', empty], /must hold the password alone on one line/],
    [[...INIT, '--broker-password-file', twoLines], /must hold the password alone on one line/],
    [
      [...INIT, '--broker-password-file', good, '--setup-token', 'tok'],
      /either --setup-token .* or --broker-password-file/,
    ],
    [['join', 'isaac1-x', '--broker-password-file', empty], /must hold the password alone on one line/],
  ];
  for (const [args, message] of cases) {
    const r = await runNodeCli(home, args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal(existsSync(paths.keys(home)), false, 'no keys written');
    assert.equal(existsSync(brokerPasswordPath(home)), false, 'no password stored');
  }
  // init without either says what to give
  const neither = await runNodeCli(home, INIT);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /--setup-token is required|missing setup token/);
});

test('isaac-node start with a static broker password refuses a missing or group-readable password file', async (t) => {
  const net = await createNetwork(t, ['alpha']);
  const home = net.homes.alpha!;
  withStore(home, (s) => s.config.setInternal(NETWORK_KEYS.brokerLogin, 'static-password'));
  const missing = await runNodeCli(home, ['start'], 20_000);
  assert.equal(missing.code, 78, missing.stderr); // config (README, Exit statuses)
  assert.match(missing.stderr, /static broker password, but .*broker-password is missing/);

  writeFileSync(brokerPasswordPath(home), 'pw\n');
  chmodSync(brokerPasswordPath(home), 0o644);
  const open = await runNodeCli(home, ['start'], 20_000);
  assert.equal(open.code, 126, open.stderr); // refused, like a key file open to others
  assert.match(open.stderr, /readable or writable by other users .*chmod 600/);
  rmSync(brokerPasswordPath(home));

  // `isaac revoke` cannot work through such a broker: it says where to do it, and changes nothing
  const revoke = await runIsaac({ home, userHome: home, env: { ...process.env, ISAAC_HOME: home } }, [
    '--yes',
    'revoke',
    'beta',
  ]);
  assert.notEqual(revoke.status, 0);
  assert.match(revoke.stderr, /checks static passwords.*mosquitto-remove-machine\.sh beta/);
  assert.equal(
    withStore(home, (s) => s.machines.get('beta')),
    undefined,
  );
});
