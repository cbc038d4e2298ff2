import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { test } from 'node:test';
import { NETWORK_KEYS } from '../../node/core/identity/settings.ts';
import { paths } from '../../node/core/paths.ts';
import type { ExecEvent } from '../../node/ipc/client.ts';
import { EXIT } from '../../schemas/cli.ts';
import { startTestBroker } from '../helpers/broker.ts';
import {
  clientFor,
  createNetwork,
  runNodeCli,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../helpers/node-procs.ts';
import { freePort, waitFor } from '../helpers/tmp.ts';

test('isaac-node fails over past a dead broker URL, and after a broker restart logs in again with a fresh token', async (t) => {
  const net = await createNetwork(t, ['alpha', 'beta']);
  const dead = `mqtts://127.0.0.1:${await freePort()}`;
  const real = withStore(net.homes.alpha!, (s) => s.config.get(NETWORK_KEYS.brokers)!);
  withStore(net.homes.alpha!, (s) => s.config.setInternal(NETWORK_KEYS.brokers, `${dead},${real}`));
  const alpha = await startNodeProc(t, net.homes.alpha!);
  await startNodeProc(t, net.homes.beta!);
  await waitAllOnline([net.homes.alpha!, net.homes.beta!], ['alpha', 'beta']);
  assert.match(alpha.log(), /cannot reach mqtts:\/\/127\.0\.0\.1:\d+/);
  assert.match(alpha.log(), new RegExp(`connected to ${real.replace(/[.:/]/g, '\\$&')}`));

  const ports = net.broker.ports;
  await net.broker.stop();
  await waitFor(() => /disconnected from/.test(alpha.log()), 'alpha notices the broker is gone');
  await startTestBroker(t, {
    reuse: { dataDir: net.broker.dataDir, networkKeys: net.broker.networkKeys, secrets: net.broker.secrets },
    tlsPort: ports.tls ?? 0,
    tcpPort: ports.tcp ?? 0,
  });
  await waitFor(
    () => (alpha.log().match(/connected to mqtts/g) ?? []).length >= 2,
    'alpha logged in again',
    30_000,
  );
  const client = await clientFor(t, net.homes.alpha!);
  await waitFor(
    () => withStore(net.homes.alpha!, (s) => s.machines.get('beta')?.status === 'online'),
    'beta back',
    30_000,
  );
  const events: ExecEvent[] = [];
  await client.exec({ targets: 'beta', cmd: 'echo after-restart' }, (e) => events.push(e)).done;
  assert.ok(
    events.some((e) => e.event === 'chunk' && e.data === 'after-restart\n'),
    JSON.stringify(events),
  );
});

test('isaac-node start refuses key files readable by others and says how to fix it', async (t) => {
  const net = await createNetwork(t, ['alpha']);
  const keyDir = paths.keys(net.homes.alpha!);
  chmodSync(keyDir, 0o755);
  const r = await runNodeCli(net.homes.alpha!, ['start'], 15_000);
  assert.equal(r.code, EXIT.refused);
  assert.match(r.stderr, new RegExp(`chmod 700 ${keyDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
});
