import assert from 'node:assert/strict';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  LoginEnvironment,
  parseLoginEnv,
  reloadLoginEnvironments,
} from '../../../node/daemon/remote/login-env.ts';
import { runRemoteCommand } from '../../../node/daemon/remote/runner.ts';
import { tempDir } from '../../helpers/tmp.ts';

function loginEnvFor(home: string): LoginEnvironment {
  return new LoginEnvironment('bash', [join(home, '.profile')], { ...process.env, HOME: home });
}

function writeProfile(home: string, text: string, mtimeS: number): void {
  const file = join(home, '.profile');
  writeFileSync(file, text);
  utimesSync(file, mtimeS, mtimeS);
}

async function run(cmd: string, loginEnv: Record<string, string> | undefined): Promise<string> {
  let out = '';
  const outcome = await runRemoteCommand({ cmd, timeoutMs: 10_000, loginEnv, onChunk: (_s, d) => (out += d) })
    .done;
  assert.equal(outcome.exit, 0, out);
  return out;
}

test('the login environment is read once; an edited profile is not picked up (nor run) until reload', async (t) => {
  const home = tempDir(t);
  writeProfile(
    home,
    'echo "Welcome to the box"\nexport ISAAC_T=first\nexport PATH="$HOME/bin:$PATH"\n',
    1_000_000,
  );
  const login = loginEnvFor(home);
  assert.equal(login.current(), undefined, 'nothing before the first read');
  await login.ready();
  const env = login.current();
  assert.equal(env?.ISAAC_T, 'first', 'what the profile prints is skipped, what it exports is kept');
  assert.ok(env?.PATH?.startsWith(`${home}/bin:`));
  assert.equal(env?.SHLVL, undefined, 'per-process variables are not copied');

  // a remote line appends to the profile: nothing of it runs, and the environment stays as read
  const marker = join(home, 'ran');
  writeProfile(home, `export ISAAC_T=second\ntouch ${marker}\n`, 2_000_000);
  assert.equal(login.current(), env, 'the edit is not picked up');
  await login.ready();
  assert.equal(await run('echo "$ISAAC_T"', login.current()), 'first\n');
  assert.equal(existsSync(marker), false, 'the edited profile was not run');

  assert.equal((await reloadLoginEnvironments()) >= 1, true);
  assert.equal(login.current()?.ISAAC_T, 'second', 'an explicit reload reads it again');
  assert.equal(existsSync(marker), true, 'the reload is what ran the profile');
});

test('a profile that fails leaves no login environment; commands then get the node environment, not a login shell', async (t) => {
  const home = tempDir(t);
  writeProfile(home, 'exit 3\n', 1_000_000);
  const login = loginEnvFor(home);
  await login.refresh();
  assert.equal(login.current(), undefined);
  assert.equal(await run('shopt -q login_shell && echo login || echo plain', undefined), 'plain\n');
  assert.equal(parseLoginEnv('no mark here'), undefined);
  assert.equal(parseLoginEnv('\0ISAAC-LOGIN-ENV\0not-an-entry\0'), undefined);
});

test('a remote command sees the login environment through a plain bash -c', async (t) => {
  const home = tempDir(t);
  writeProfile(home, 'export ISAAC_T=from-profile\n', 1_000_000);
  const login = loginEnvFor(home);
  await login.refresh();
  const env = login.current();
  assert.ok(env);
  assert.equal(await run('echo "$ISAAC_T" $0', env), 'from-profile bash\n');
  assert.equal(await run('shopt -q login_shell && echo login || echo plain', env), 'plain\n');
});
