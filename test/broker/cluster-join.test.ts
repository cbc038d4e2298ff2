/**
 * Joining a network served by two isaac-brokers on one Redis (issue 16): `isaac-node join` enrolls
 * and publishes its roster entry through whichever broker of the invite it reaches, and the
 * machine is then reachable from a machine on the other broker.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import nacl from 'tweetnacl';
import { clearRedisPrefix } from '../../broker/cluster.ts';
import { initDataDir } from '../../broker/init.ts';
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../../broker/tls.ts';
import type { ExecEvent } from '../../node/ipc/client.ts';
import { createInvite } from '../../node/shell/identity/membership.ts';
import { nodeSubscriptions } from '../../schemas/topics.ts';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { clientFor, runNodeCli, startNodeProc, waitAllOnline } from '../helpers/node-procs.ts';
import { tempDir } from '../helpers/tmp.ts';

const REDIS = 'redis://127.0.0.1:6379';

test('cluster mode: a persistent session’s SUBSCRIBE of several topics is acknowledged', async (t) => {
  const prefix = `isaac-test-${randomBytes(6).toString('hex')}:`;
  t.after(() => clearRedisPrefix(REDIS, prefix));
  const broker = await startTestBroker(t, {
    process: true,
    args: ['--redis', `${REDIS}/0?prefix=${prefix}`],
    machines: ['x'],
  });
  const client = await broker.connect('x', { clean: false });
  const granted = await Promise.race([
    client.subscribeAsync(nodeSubscriptions('x')),
    new Promise<'no SUBACK'>((resolve) => setTimeout(() => resolve('no SUBACK'), 15_000)),
  ]);
  assert.notEqual(granted, 'no SUBACK');
  assert.equal((granted as unknown[]).length, Object.keys(nodeSubscriptions('x')).length);
  await client.endAsync();
});

test('cluster join: with broker 1 down, join goes through broker 2 and the new machine answers !exec', async (t) => {
  const prefix = `isaac-test-${randomBytes(6).toString('hex')}:`;
  const args = ['--redis', `${REDIS}/0?prefix=${prefix}`];
  const started: TestBroker[] = [];
  t.after(async () => {
    for (const broker of started) await broker.kill();
    await clearRedisPrefix(REDIS, prefix);
  });
  const root = tempDir(t, 'isaac-cluster-join-');
  const dir1 = join(root, 'broker1');
  const { setupToken } = initDataDir(dir1);
  const secrets = new Map<string, Uint8Array>();
  const broker1 = await startTestBroker(t, {
    process: true,
    args,
    reuse: { dataDir: dir1, networkKeys: nacl.sign.keyPair(), secrets },
  });
  started.push(broker1);
  const dir2 = join(root, 'broker2');
  mkdirSync(dir2, { mode: 0o700 });
  for (const file of [TLS_CERT_FILE, TLS_KEY_FILE]) copyFileSync(join(dir1, file), join(dir2, file));
  const broker2 = await startTestBroker(t, {
    process: true,
    args,
    reuse: { dataDir: dir2, networkKeys: nacl.sign.keyPair(), secrets },
  });
  started.push(broker2);

  const alpha = join(root, 'alpha');
  const beta = join(root, 'beta');
  const init = await runNodeCli(alpha, [
    'init',
    '--broker',
    `${broker1.tlsUrl},${broker2.tlsUrl}`,
    '--fingerprint',
    broker1.fingerprint,
    '--setup-token',
    setupToken,
    '--name',
    'alpha',
  ]);
  assert.equal(init.code, 0, init.stderr);
  const code = createInvite(alpha, 'beta');

  await broker1.kill();
  const joined = await runNodeCli(beta, ['join', code]);
  assert.equal(joined.code, 0, joined.stderr);
  assert.doesNotMatch(`${joined.stdout}${joined.stderr}`, /not published yet/, broker2.logs().join('\n'));

  await startNodeProc(t, alpha);
  await startNodeProc(t, beta);
  await waitAllOnline([alpha, beta], ['alpha', 'beta']);
  const events: ExecEvent[] = [];
  await (await clientFor(t, alpha)).exec({ targets: 'beta', cmd: 'echo joined' }, (e) => events.push(e)).done;
  const result = events.find((e) => e.event === 'result');
  assert.ok(result?.event === 'result' && result.exit === 0, JSON.stringify(events));
  assert.ok(
    events.some((e) => e.event === 'chunk' && e.data.includes('joined')),
    JSON.stringify(events),
  );
});
