/**
 * Promotion end to end (issue 11): `isaac promote beta` on the admin hands beta the network key
 * through isaac-node; beta can then invite a new machine that joins and shows up in the roster,
 * while gamma, a member, is refused with the names of the machines that can. Real broker, real
 * isaac-node processes, the real `isaac` and `isaac-node` programs.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadIdentity } from '../../../node/core/crypto/keys.ts';
import { type IsaacEnv, runIsaac } from '../../helpers/isaac.ts';
import {
  createNetwork,
  runNodeCli,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../../helpers/node-procs.ts';
import { tempDir, waitFor } from '../../helpers/tmp.ts';

function shellIn(t: Parameters<typeof tempDir>[0], home: string): IsaacEnv {
  const userHome = join(tempDir(t), 'home');
  mkdirSync(userHome);
  return { home, userHome, env: { ...process.env, ISAAC_HOME: home, HOME: userHome, TERM: 'dumb' } };
}

test('isaac promote: the promoted machine can invite (and its invite joins), a member cannot', async (t) => {
  const names = ['alpha', 'beta', 'gamma'];
  const net = await createNetwork(t, names);
  const [alphaHome, betaHome, gammaHome] = names.map((n) => net.homes[n]!) as [string, string, string];
  for (const home of [alphaHome, betaHome, gammaHome]) await startNodeProc(t, home);
  await waitAllOnline([alphaHome, betaHome, gammaHome], names);

  // before: beta is a member like gamma
  const early = await runIsaac(shellIn(t, betaHome), ['invite', 'delta']);
  assert.equal(early.status, 78, early.stderr);
  assert.match(early.stderr, /only admin machines can invite; this machine is a member: run it on alpha/);

  const promoted = await runIsaac(shellIn(t, alphaHome), ['promote', 'beta']);
  assert.equal(promoted.status, 0, promoted.stderr);
  assert.match(promoted.stdout, /^promoted beta: the network key is queued for it/);
  await waitFor(
    () => loadIdentity(betaHome).network !== undefined,
    'beta to receive the network key',
    60_000,
  );
  for (const home of [alphaHome, gammaHome])
    await waitFor(
      () => withStore(home, (s) => s.machines.isAdmin('beta')),
      `beta an admin as seen from ${home}`,
      60_000,
    );

  // beta invites delta; delta joins with it and becomes visible to the others
  const invite = await runIsaac(shellIn(t, betaHome), ['invite', 'delta']);
  assert.equal(invite.status, 0, invite.stderr);
  const code = /isaac-node join (\S+)/.exec(invite.stdout)?.[1];
  assert.ok(code, invite.stdout);
  const deltaHome = join(net.root, 'delta');
  const joined = await runNodeCli(deltaHome, ['join', code]);
  assert.equal(joined.code, 0, joined.stderr);
  assert.match(joined.stdout, /joined the network as delta/);
  await startNodeProc(t, deltaHome);
  await waitAllOnline([alphaHome, gammaHome], ['delta']);

  // gamma, a member, cannot invite, promote or revoke, and is told who can
  const gamma = shellIn(t, gammaHome);
  for (const args of [
    ['invite', 'epsilon'],
    ['promote', 'gamma'],
    ['revoke', 'delta'],
  ]) {
    const r = await runIsaac(gamma, args);
    assert.equal(r.status, 78, `${args.join(' ')}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /only admin machines can .*; this machine is a member: run it on alpha or beta/,
      args.join(' '),
    );
  }
  assert.equal(loadIdentity(gammaHome).network, undefined);
  assert.equal(
    withStore(alphaHome, (s) => s.machines.get('epsilon')),
    undefined,
  );
});
