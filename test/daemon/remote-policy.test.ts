import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

test('remote policy on the target: tier 3 refused with its reason (with max_tier 3 and no isaac shell to ask there too), tier 4 never, allow_from, revoked machines neither connect nor are obeyed', async (t) => {
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
  const stillAsks = await exec(alpha, 'beta', `rm ${victim}`);
  assert.equal(stillAsks.refused?.tier, 3);
  assert.match(stillAsks.refused?.reason ?? '', /needs a yes typed here: no isaac shell is open on beta/);
  assert.ok(existsSync(victim), 'with max_tier 3 a tier-3 command still does not run silently');

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

test('remote policy fails closed end to end: attacks that ran in issue 11 are refused and the file keeps its content; benign commands run', async (t) => {
  const names = ['alpha', 'beta'];
  const net = await createNetwork(t, names);
  const [alphaHome, betaHome] = names.map((n) => net.homes[n]!) as [string, string];
  for (const home of [alphaHome, betaHome]) await startNodeProc(t, home);
  await waitAllOnline([alphaHome, betaHome], names);
  const alpha = await clientFor(t, alphaHome);
  const dir = tempDir(t);
  const file = join(dir, 'F');
  writeFileSync(file, 'precious\n');
  const attacks = [
    `perl -e 'unlink "${file}"'`,
    `node -e "require('fs').unlinkSync('${file}')"`,
    `git -c alias.x='!rm ${file}' x`,
    `. <(echo rm ${file})`,
    `: > ${file}`,
    `cp /dev/null ${file}`,
    `tee ${file} </dev/null`,
    `sed -i d ${file}`,
    `ln -sf /dev/null ${file}`,
  ];
  for (const cmd of attacks) {
    const r = await exec(alpha, 'beta', cmd);
    assert.ok(r.refused, `${cmd} ran on beta`);
    assert.match(r.refused.reason, /not proven safe|tier [34]/, cmd);
  }
  assert.equal(readFileSync(file, 'utf8'), 'precious\n', 'F still exists with its content');
  withStore(betaHome, (s) => s.config.set('remote.max_tier', '3'));
  const stillRefused = await exec(alpha, 'beta', `sed -i d ${file}`);
  assert.ok(stillRefused.refused, 'a higher max_tier does not admit what is not proven');
  assert.equal(readFileSync(file, 'utf8'), 'precious\n');
  for (const cmd of [`cat ${file}`, 'uptime', 'df -h', `ls ${dir}`, 'echo hello']) {
    const r = await exec(alpha, 'beta', cmd);
    assert.equal(r.refused, undefined, `${cmd} was refused: ${r.refused?.reason}`);
    assert.equal(r.exit, 0, cmd);
  }
});

test('the login environment of remote commands is read at node start; a profile edit is picked up only after isaac-node reload', async (t) => {
  const names = ['alpha', 'beta'];
  const net = await createNetwork(t, names);
  const [alphaHome, betaHome] = names.map((n) => net.homes[n]!) as [string, string];
  const betaUserHome = tempDir(t);
  const profile = join(betaUserHome, '.profile');
  writeFileSync(profile, 'export ISAAC_T=first\n');
  await startNodeProc(t, alphaHome);
  // a fresh HOME starts slower (no caches): a generous deadline
  await startNodeProc(t, betaHome, { env: { HOME: betaUserHome }, connectTimeoutMs: 90_000 });
  await waitAllOnline([alphaHome, betaHome], names);
  const alpha = await clientFor(t, alphaHome);
  const output = async (cmd: string): Promise<string> => {
    let out = '';
    await alpha.exec({ targets: 'beta', cmd }, (e) => {
      if (e.event === 'chunk') out += e.data;
    }).done;
    return out;
  };
  assert.equal(await output('echo "$ISAAC_T"'), 'first\n');
  writeFileSync(profile, `export ISAAC_T=second\ntouch ${join(betaUserHome, 'ran')}\n`);
  assert.equal(await output('echo "$ISAAC_T"'), 'first\n', 'the edited profile is not read again by itself');
  assert.equal(existsSync(join(betaUserHome, 'ran')), false, 'nor run');
  const reload = await runNodeCli(betaHome, ['reload']);
  assert.equal(reload.code, 0, reload.stderr);
  await waitFor(async () => (await output('echo "$ISAAC_T"')) === 'second\n', 'beta reads the profile again');
});
