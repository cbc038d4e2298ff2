import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Aedes } from 'aedes';
import { loadIdentity } from '../../node/core/crypto/keys.ts';
import { classify } from '../../node/core/tiers/index.ts';
import { checkRemoteExec } from '../../node/daemon/remote/policy.ts';
import type { ExecEvent, NodeClient } from '../../node/ipc/client.ts';
import { revokeMachine } from '../../node/shell/identity/membership.ts';
import { sealEnvelope } from '../../schemas/envelope.ts';
import {
  clientFor,
  createNetwork,
  runNodeCli,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../helpers/node-procs.ts';
import { tempDir, waitFor } from '../helpers/tmp.ts';

async function exec(client: NodeClient, targets: string, cmd: string) {
  const events: ExecEvent[] = [];
  await client.exec({ targets, cmd }, (e) => events.push(e)).done;
  const result = events.find((e) => e.event === 'result');
  assert.ok(result && result.event === 'result', JSON.stringify(events));
  return result;
}

function inject(aedes: Aedes, topic: string, payload: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) =>
    aedes.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
      (err) => (err ? reject(err) : resolve()),
    ),
  );
}

test('tier 4 never runs whatever remote.max_tier says (classification only, nothing executed)', () => {
  const policy = { maxTier: 3, allowFrom: [], timeoutMs: 1000 };
  const refusal = checkRemoteExec({ from: 'alpha', cmd: 'dd if=/dev/zero of=/dev/sda' }, policy, classify);
  assert.equal(refusal?.tier, 4);
  assert.match(refusal?.reason ?? '', /^tier 4, never runs: writes raw data onto a disk device/);
  const wrapped = checkRemoteExec({ from: 'alpha', cmd: 'sudo bash -c "chmod -R 777 /"' }, policy, classify);
  assert.equal(wrapped?.tier, 4);
});

test('remote policy on the target: tier 3 refused with its reason, tier 4 never, allow_from, revoked machines neither connect nor are obeyed', async (t) => {
  const names = ['alpha', 'beta', 'gamma'];
  const net = await createNetwork(t, names);
  const [alphaHome, betaHome, gammaHome] = names.map((n) => net.homes[n]!) as [string, string, string];
  for (const home of [alphaHome, betaHome, gammaHome]) await startNodeProc(t, home);
  await waitAllOnline([alphaHome, betaHome, gammaHome], names);
  const alpha = await clientFor(t, alphaHome);
  const dir = tempDir(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'keep me');

  const tier3 = await exec(alpha, 'beta', `rm ${victim}`);
  assert.equal(tier3.refused?.tier, 3);
  assert.equal(tier3.refused?.reason, 'tier 3 is above remote.max_tier 2 here: deletes files');
  assert.ok(existsSync(victim), 'the refused command did not run');

  withStore(betaHome, (s) => {
    s.config.set('remote.max_tier', '3');
    s.config.set('tier.touch', '4');
  });
  const marker = join(dir, 'marker');
  const tier4 = await exec(alpha, 'beta', `touch ${marker}`);
  assert.equal(tier4.refused?.tier, 4);
  assert.match(tier4.refused?.reason ?? '', /^tier 4, never runs/);
  assert.equal(existsSync(marker), false);
  const allowed = await exec(alpha, 'beta', `rm ${victim}`);
  assert.equal(allowed.exit, 0);
  assert.equal(existsSync(victim), false, 'with max_tier 3 the same tier-3 command runs');

  withStore(betaHome, (s) => s.config.set('remote.allow_from', 'gamma'));
  const notAllowed = await exec(alpha, 'beta', 'echo hi');
  assert.equal(notAllowed.refused?.reason, 'alpha is not in remote.allow_from on this machine');

  // revoke gamma: its broker login is gone at once, and alpha no longer obeys its signature
  const gammaKeys = loadIdentity(gammaHome);
  await revokeMachine(alphaHome, 'gamma');
  const gammaStatus = await waitFor(async () => {
    const r = await runNodeCli(gammaHome, ['status']);
    return /not connected/.test(r.stdout) ? r.stdout : undefined;
  }, 'gamma disconnected');
  assert.match(gammaStatus ?? '', /connection: +not connected/);
  const sealed = sealEnvelope(
    {
      type: 'exec',
      from: 'gamma',
      to: 'alpha',
      body: { cmd: `touch ${marker}`, timeoutMs: 5000, stream: false },
      ttlMs: 60_000,
    },
    gammaKeys.sign.secretKey,
    new Uint8Array(withStore(alphaHome, (s) => s.machines.get('alpha')!.box_pk!)),
  );
  await inject(net.broker.running!.aedes, sealed.topic, sealed.payload);
  const status = await waitFor(async () => {
    const r = await runNodeCli(alphaHome, ['status']);
    return /unknown-sender 1/.test(r.stdout) ? r.stdout : undefined;
  }, 'alpha counts the refusal');
  assert.match(status ?? '', /refusals: +.*unknown-sender 1/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(existsSync(marker), false, 'the revoked machine was not obeyed');
});
