import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecEvent, NodeClient } from '../../node/ipc/client.ts';
import { machinesView } from '../../node/shell/commands/remote.ts';
import { runIsaac } from '../helpers/isaac.ts';
import {
  clientFor,
  createNetwork,
  runNodeCli,
  startNodeProc,
  waitAllOnline,
  withStore,
} from '../helpers/node-procs.ts';
import { waitFor } from '../helpers/tmp.ts';

async function exec(client: NodeClient, targets: string, cmd: string): Promise<ExecEvent[]> {
  const events: ExecEvent[] = [];
  await client.exec({ targets, cmd }, (e) => events.push(e)).done;
  return events;
}

const output = (events: ExecEvent[], target: string) =>
  events
    .filter((e) => e.event === 'chunk' && e.target === target)
    .map((e) => (e.event === 'chunk' ? e.data : ''))
    .join('');
const exitOf = (events: ExecEvent[], target: string) => {
  const r = events.find((e) => e.event === 'result' && e.target === target);
  return r && r.event === 'result' ? r.exit : undefined;
};

test('three machines joined with isaac-node init/join: !exec each pair, fan-out to all, !msg both ways', async (t) => {
  const names = ['alpha', 'beta', 'gamma'];
  const net = await createNetwork(t, names);
  const homes = names.map((n) => net.homes[n]!);
  for (const home of homes) await startNodeProc(t, home);
  await waitAllOnline(homes, names);
  const clients = Object.fromEntries(
    await Promise.all(names.map(async (n) => [n, await clientFor(t, net.homes[n]!)] as const)),
  );

  for (const from of names) {
    for (const to of names) {
      if (from === to) continue;
      const events = await exec(clients[from]!, to, `echo "$ISAAC_TEST_MARK from ${from} on ${to}"; exit 7`);
      assert.equal(exitOf(events, to), 7, `${from} -> ${to}: ${JSON.stringify(events)}`);
      assert.equal(output(events, to), ` from ${from} on ${to}\n`);
    }
  }
  const fan = await exec(clients.alpha!, 'all', 'echo fan-$((6*7))');
  for (const n of names) {
    assert.equal(exitOf(fan, n), 0);
    assert.equal(output(fan, n), 'fan-42\n');
  }
  const fromAlpha = withStore(net.homes.beta!, (s) =>
    s.db
      .prepare("SELECT command FROM commands WHERE source = 'remote:alpha' AND origin = 'beta' ORDER BY id")
      .all(),
  );
  assert.deepEqual(fromAlpha, [
    { command: 'echo "$ISAAC_TEST_MARK from alpha on beta"; exit 7' },
    { command: 'echo fan-$((6*7))' },
  ]);

  const seen: Record<string, string[]> = { alpha: [], gamma: [] };
  clients.alpha!.onNotification((n) => seen.alpha!.push(`${n.from}: ${n.text}`));
  clients.gamma!.onNotification((n) => seen.gamma!.push(`${n.from}: ${n.text}`));
  await clients.alpha!.msg('gamma', 'hi gamma');
  await clients.gamma!.msg('alpha', 'hi alpha');
  await waitFor(() => seen.alpha!.length === 1 && seen.gamma!.length === 1, 'both messages');
  assert.deepEqual(seen, { alpha: ['gamma: hi alpha'], gamma: ['alpha: hi gamma'] });

  const view = withStore(net.homes.alpha!, (s) => machinesView(s));
  assert.deepEqual(
    view.map((m) => [m.name, m.state, m.version, typeof m.lastSeen, typeof m.address]),
    names.map((n) => [n, 'online', '0.1.0', 'number', 'string']),
  );

  const status = await runNodeCli(net.homes.alpha!, ['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /connection: +connected to mqtts:\/\/127\.0\.0\.1:\d+/);
  assert.match(status.stdout, /outbox: +0 waiting/);

  // the same network through the real `isaac` program, as a user types it
  const asAlpha = {
    home: net.homes.alpha!,
    userHome: net.homes.alpha!,
    env: { ...process.env, ISAAC_HOME: net.homes.alpha! },
  };
  const remote = await runIsaac(asAlpha, ['-c', '!exec beta echo typed-in-isaac; exit 3']);
  assert.equal(remote.stdout, 'typed-in-isaac\n', remote.stderr);
  assert.equal(remote.status, 3);
  const machines = JSON.parse((await runIsaac(asAlpha, ['-c', '/show machines --json'])).stdout) as {
    name: string;
    state: string;
  }[];
  assert.deepEqual(
    machines.map((m) => [m.name, m.state]),
    names.map((n) => [n, 'online']),
  );
  const shown = JSON.parse(
    (await runIsaac(asAlpha, ['-c', '/show status --json'])).stdout.trim().split('\n').at(-1)!,
  ) as {
    daemon: string;
    connected: boolean;
    peers: { peer: string }[];
  };
  assert.equal(shown.daemon, 'running');
  assert.equal(shown.connected, true);
  assert.deepEqual(shown.peers.map((p) => p.peer).sort(), ['beta', 'gamma']);
});
