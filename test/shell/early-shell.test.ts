import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isaacEnv, runIsaac } from '../helpers/isaac.ts';

// `isaac -c LINE` starts bash before it opens the store and checks the line (node/shell/cli.ts
// spawnEarly). What that bash is, and what becomes of it when the line does not run:

test('isaac -c: a configured shell.program is the shell the line runs in, not the bash started early', async (t) => {
  const ienv = isaacEnv(t);
  const wrapper = join(ienv.userHome, 'my-bash');
  writeFileSync(wrapper, '#!/bin/sh\nexport VIA_MY_BASH=yes\nexec bash "$@"\n');
  chmodSync(wrapper, 0o755);
  assert.equal((await runIsaac(ienv, ['-c', `/set config shell.program ${wrapper}`])).status, 0);
  const result = await runIsaac(ienv, ['-c', 'echo "via=$VIA_MY_BASH"']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /via=yes/);
});

test('isaac -c: a line that is refused leaves no shell behind (its private directory is gone)', async (t) => {
  const ienv = isaacEnv(t);
  const tmp = join(ienv.userHome, 'tmp');
  mkdirSync(tmp);
  ienv.env.TMPDIR = tmp;
  const refused = await runIsaac(ienv, ['-c', 'rm -rf ~']);
  assert.equal(refused.status, 126, refused.stderr);
  const unconfirmed = await runIsaac(ienv, ['-c', 'sudo rm -rf ~/build']);
  assert.equal(unconfirmed.status, 126, unconfirmed.stderr);
  assert.match(unconfirmed.stderr, /needs a confirmation/);
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.startsWith('isaac-sh-')),
    [],
  );
  const ran = await runIsaac(ienv, ['-c', 'echo ran']);
  assert.equal(ran.stdout.trim(), 'ran');
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.startsWith('isaac-sh-')),
    [],
  );
});
