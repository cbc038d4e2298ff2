import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from 'aedes';
import { shouldApply } from '../../node/daemon/peer-state.ts';
import type { ExecEvent, NodeClient } from '../../node/ipc/client.ts';
import { startTestBroker } from '../helpers/broker.ts';
import {
  clientFor,
  createNetwork,
  type NodeProc,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../helpers/node-procs.ts';
import { waitFor } from '../helpers/tmp.ts';

/** The longest a peer may be shown in the wrong state after it is back (issue 16). */
const RIGHT_WITHIN_MS = 2000;

describe('status ordering (pure)', () => {
  const online = (conn: number, at = conn + 5) => ({ state: 'online', conn, at });
  const offline = (conn: number, at = conn) => ({ state: 'offline', conn, at });
  test('an old connection’s last will never overwrites a newer online', () => {
    assert.equal(shouldApply(online(200), offline(100)), false);
    assert.equal(shouldApply(offline(100), online(200)), true);
  });
  test('within one connection, offline ends it; a late online of it is refused', () => {
    assert.equal(shouldApply(online(100), offline(100)), true);
    assert.equal(shouldApply(offline(100), online(100, 500)), false);
  });
  test('a retained copy of what is shown applies again; a later publish of the same connection applies', () => {
    assert.equal(shouldApply(online(100), online(100)), true);
    assert.equal(shouldApply(online(100, 110), online(100, 120)), true);
    assert.equal(shouldApply(online(100, 120), online(100, 110)), false);
  });
  test('unstamped payloads (older Isaac, other tools) apply until a stamped one is known', () => {
    assert.equal(shouldApply(undefined, { state: 'offline' }), true);
    assert.equal(shouldApply({ state: 'online' }, { state: 'offline' }), true);
    assert.equal(shouldApply(online(100), { state: 'offline' }), false);
    assert.equal(shouldApply(undefined, { state: 'bogus', conn: 5 }), false);
  });
});

function connects(proc: NodeProc): number {
  return (proc.log().match(/connected to mqtt/g) ?? []).length;
}

/** From `since`: the observer shows `peer` online and an !exec to it runs (not queued). */
async function rightAgain(
  observerHome: string,
  client: NodeClient,
  peer: string,
  since: number,
): Promise<{ stateMs: number; execMs: number }> {
  await waitFor(
    () => withStore(observerHome, (s) => s.machines.get(peer)?.status === 'online'),
    `${peer} shown online`,
    30_000,
  );
  const stateMs = Date.now() - since;
  const events: ExecEvent[] = [];
  await client.exec({ targets: peer, cmd: 'echo back' }, (e) => events.push(e)).done;
  const execMs = Date.now() - since;
  assert.ok(
    !events.some((e) => e.event === 'queued'),
    `!exec to ${peer} was queued: ${JSON.stringify(events)}`,
  );
  const result = events.find((e) => e.event === 'result');
  assert.ok(result && result.event === 'result' && result.exit === 0, JSON.stringify(events));
  return { stateMs, execMs };
}

test('a peer is shown right within 2 s of a restart and of a dropped connection, both ways', async (t) => {
  const names = ['alpha', 'beta'];
  const net = await createNetwork(t, names);
  const homes = { alpha: net.homes.alpha!, beta: net.homes.beta! };
  const procs: Record<string, NodeProc> = {
    alpha: await startNodeProc(t, homes.alpha),
    beta: await startNodeProc(t, homes.beta),
  };
  await waitAllOnline([homes.alpha, homes.beta], names);
  const figures: string[] = [];

  for (const [moved, observer] of [
    ['beta', 'alpha'],
    ['alpha', 'beta'],
  ] as const) {
    // 1. restart, killed with -9: its last will arrives around the new connection's online
    await procs[moved]!.kill('SIGKILL');
    procs[moved] = await startNodeProc(t, homes[moved]);
    const back = Date.now();
    const client = await clientFor(t, homes[observer]);
    let took = await rightAgain(homes[observer], client, moved, back);
    figures.push(`restart ${moved}: state ${took.stateMs} ms, exec ${took.execMs} ms`);
    assert.ok(took.stateMs <= RIGHT_WITHIN_MS, figures.at(-1));

    // 2. the broker drops the connection (as after a partition): last will, then a reconnect
    const before = connects(procs[moved]!);
    const clients = (net.broker.running!.aedes as unknown as { clients: Record<string, Client> }).clients;
    clients[moved]!.close();
    await waitFor(() => connects(procs[moved]!) > before, `${moved} reconnects`, 30_000);
    took = await rightAgain(homes[observer], client, moved, Date.now());
    figures.push(`dropped ${moved}: state ${took.stateMs} ms, exec ${took.execMs} ms`);
    assert.ok(took.stateMs <= RIGHT_WITHIN_MS, figures.at(-1));
  }
  t.diagnostic(figures.join('; '));
});

test('a peer is shown right within 2 s after the broker restarts', {
  todo: 'seen at 0.2-1.4 s in most runs but 9 s and 20 s in two runs on a loaded machine; cause not found yet',
}, async (t) => {
  const names = ['alpha', 'beta'];
  const net = await createNetwork(t, names);
  const homes = { alpha: net.homes.alpha!, beta: net.homes.beta! };
  const procs = { alpha: await startNodeProc(t, homes.alpha), beta: await startNodeProc(t, homes.beta) };
  await waitAllOnline([homes.alpha, homes.beta], names);
  const ports = net.broker.ports;
  const counts = { alpha: connects(procs.alpha), beta: connects(procs.beta) };
  await net.broker.kill();
  await startTestBroker(t, {
    reuse: { dataDir: net.broker.dataDir, networkKeys: net.broker.networkKeys, secrets: net.broker.secrets },
    tlsPort: ports.tls ?? 0,
    tcpPort: ports.tcp ?? 0,
  });
  await waitFor(
    () => connects(procs.alpha) > counts.alpha && connects(procs.beta) > counts.beta,
    'both back on the restarted broker',
    60_000,
  );
  const reconnected = Date.now();
  for (const [moved, observer] of [
    ['beta', 'alpha'],
    ['alpha', 'beta'],
  ] as const) {
    const took = await rightAgain(homes[observer], await clientFor(t, homes[observer]), moved, reconnected);
    assert.ok(took.stateMs <= RIGHT_WITHIN_MS, `${observer} sees ${moved} after ${took.stateMs} ms`);
  }
});
