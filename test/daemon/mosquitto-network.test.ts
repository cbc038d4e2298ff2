import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ExecEvent, NodeClient } from '../../node/ipc/client.ts';
import { createInvite } from '../../node/shell/identity/membership.ts';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.ts';
import { clientFor, runNodeCli, startNodeProc, waitAllOnline, withStore } from '../helpers/node-procs.ts';
import { tempDir, waitFor } from '../helpers/tmp.ts';

async function exec(client: NodeClient, targets: string, cmd: string): Promise<ExecEvent[]> {
  const events: ExecEvent[] = [];
  await client.exec({ targets, cmd }, (e) => events.push(e)).done;
  return events;
}

test(mosquittoAvailable
  ? 'a network on Mosquitto with static passwords: init, join, !exec, !msg, !status, history sync, offline queue'
  : 'Mosquitto network test skipped: mosquitto not installed', { skip: !mosquittoAvailable }, async (t) => {
  const mq = await startMosquitto(t);
  const root = tempDir(t, 'isaac-mq-net-');
  const homes = { alpha: join(root, 'alpha'), beta: join(root, 'beta') };

  // the broker's administrator gives alpha an account; alpha creates the network with it
  const alphaPassword = mq.addMachine('alpha');
  await mq.reload('alpha', alphaPassword);
  const init = await runNodeCli(homes.alpha, [
    'init',
    '--broker',
    mq.tlsUrl,
    '--fingerprint',
    mq.fingerprint,
    '--name',
    'alpha',
    '--broker-password-file',
    alphaPassword,
  ]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(init.stderr, '', 'init published the roster entry itself');
  const stored = join(homes.alpha, 'broker-password');
  assert.equal(statSync(stored).mode & 0o777, 0o600);

  // beta: an invite from alpha, an account from the administrator; a wrong password changes nothing
  const code = createInvite(homes.alpha, 'beta');
  const betaPassword = mq.addMachine('beta');
  await mq.reload('beta', betaPassword);
  const wrong = join(root, 'wrong.password');
  writeFileSync(wrong, 'not-the-password\n');
  const refused = await runNodeCli(homes.beta, ['join', code, '--broker-password-file', wrong]);
  assert.equal(refused.code, 126, 'refused (README, Exit statuses)');
  assert.match(refused.stderr, /refused the login of beta.*nothing was changed/);
  assert.equal(refused.stderr.trim().split('\n').length, 1, 'one line');
  assert.equal(existsSync(join(homes.beta, 'keys')), false, 'no keys written');
  const joined = await runNodeCli(homes.beta, ['join', code, '--broker-password-file', betaPassword]);
  assert.equal(joined.code, 0, joined.stderr);

  const nodes = { alpha: await startNodeProc(t, homes.alpha), beta: await startNodeProc(t, homes.beta) };
  await waitAllOnline([homes.alpha, homes.beta], ['alpha', 'beta']);
  const alpha = await clientFor(t, homes.alpha);
  let beta = await clientFor(t, homes.beta);

  // !exec both ways
  const onBeta = await exec(alpha, 'beta', 'echo "ran on $(printf beta)"; exit 4');
  assert.deepEqual(
    onBeta
      .filter((e) => e.event === 'chunk' || e.event === 'result')
      .map((e) => [e.event, 'exit' in e ? e.exit : e.data]),
    [
      ['chunk', 'ran on beta\n'],
      ['result', 4],
    ],
  );
  const onAlpha = await exec(beta, 'alpha', 'echo back');
  assert.ok(
    onAlpha.some((e) => e.event === 'result' && e.exit === 0),
    JSON.stringify(onAlpha),
  );

  // !msg
  const heard: string[] = [];
  alpha.onNotification((n) => heard.push(`${n.from}: ${n.text}`));
  await beta.msg('alpha', 'hello over mosquitto');
  await waitFor(() => heard.length === 1, 'the message at alpha');
  assert.deepEqual(heard, ['beta: hello over mosquitto']);

  // !status: the retained status and a live ping round trip
  const status = await alpha.status('beta');
  assert.equal(status.retained?.state, 'online');
  assert.equal(typeof status.rttMs, 'number');

  // history sync: beta's record of the remote command reaches alpha
  const summary = await alpha.sync({ quietMs: 300, timeoutMs: 30_000 });
  assert.equal(summary.connected, true);
  await waitFor(
    () =>
      withStore(homes.alpha, (s) =>
        s.db.prepare("SELECT 1 FROM commands WHERE origin = 'beta' AND command LIKE 'echo \"ran on%'").get(),
      ),
    "beta's history at alpha",
  );

  // offline queue: beta is away; the message waits in beta's Mosquitto session
  await nodes.beta.kill('SIGTERM');
  beta.close();
  await waitFor(
    () => withStore(homes.alpha, (s) => s.machines.get('beta')?.status === 'offline'),
    'beta offline',
  );
  await alpha.msg('beta', 'while you were away');
  await waitFor(() => withStore(homes.alpha, (s) => s.outbox.count() === 0), 'the broker acknowledged it');
  nodes.beta = await startNodeProc(t, homes.beta);
  beta = await clientFor(t, homes.beta);
  await waitFor(
    () =>
      withStore(homes.beta, (s) =>
        s.messages.recent().some((m) => m.direction === 'in' && m.body === 'while you were away'),
      ),
    'the queued message at beta',
  );

  assert.doesNotMatch(mq.log(), /warning/i, 'mosquitto logged no warning');
});
