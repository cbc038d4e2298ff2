import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { paths } from '../../node/core/paths.ts';
import { runIsaac } from '../helpers/isaac.ts';
import { createNetwork, runNodeCli, startNodeProc, waitAllOnline } from '../helpers/node-procs.ts';
import { waitFor } from '../helpers/tmp.ts';

test('the daemon owns its home: a second start refuses at once, a lost socket is made again within 2 s, a stale lock is taken over', async (t) => {
  const names = ['alpha', 'beta'];
  const net = await createNetwork(t, names);
  const alpha = net.homes.alpha!;
  const beta = net.homes.beta!;
  const first = await startNodeProc(t, alpha);
  const betaProc = await startNodeProc(t, beta, { waitConnected: false });
  await waitFor(
    () => /connected to /.test(betaProc.log()),
    `beta connected: ${betaProc.log()}`,
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${betaProc.log()}\n${first.log()}`);
  });
  await waitAllOnline([alpha, beta], names);
  assert.equal(readFileSync(join(alpha, 'node.pid'), 'utf8').trim(), String(first.child.pid));

  const second = await runNodeCli(alpha, ['start'], 20_000);
  assert.equal(second.code, 1, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(`isaac-node is already running for ${alpha} \\(pid ${first.child.pid}\\)`),
  );
  assert.equal(second.stderr.trim().split('\n').length, 1, second.stderr);
  assert.equal(first.child.exitCode, null, 'the first daemon keeps running');
  assert.ok(existsSync(join(alpha, 'node.pid')), 'the refused start leaves the lock alone');

  // the socket file is deleted under a running daemon: it is made again and shells find the node
  const socket = paths.nodeSocket(alpha);
  unlinkSync(socket);
  const lostAt = Date.now();
  await waitFor(() => existsSync(socket), 'the socket made again', 10_000);
  const after = Date.now() - lostAt;
  assert.ok(after <= 2000, `socket made again after ${after} ms`);
  const status = await runNodeCli(alpha, ['status']);
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.doesNotMatch(status.stdout, /not running/);
  const env = { home: alpha, userHome: net.root, env: { ...process.env, ISAAC_HOME: alpha, HOME: net.root } };
  const msg = await runIsaac(env, ['-c', '!msg beta hello again']);
  assert.equal(msg.status, 0, msg.stderr);
  assert.match(msg.stderr, /sent to beta/);
  assert.match(first.log(), /socket .* was gone; made it again/);

  // a daemon killed with -9 leaves its pid file: the next start takes it over
  await first.kill('SIGKILL');
  assert.ok(existsSync(join(alpha, 'node.pid')));
  const restarted = await startNodeProc(t, alpha);
  assert.equal(readFileSync(join(alpha, 'node.pid'), 'utf8').trim(), String(restarted.child.pid));
  await restarted.kill('SIGTERM');
  assert.equal(existsSync(join(alpha, 'node.pid')), false, 'a clean stop removes the lock');
});
