/**
 * Trust figures (issue 11), `npm run bench -- trust`:
 * - join time end to end: `isaac invite NAME` on the admin, `isaac-node join CODE` on the new
 *   machine, until the admin's isaac-node has NAME in its roster (the real programs, a real
 *   isaac-broker over TLS);
 * - `!exec` round trip with the strict remote classifier (what isaac-node runs) against the plain
 *   tiers, alternated A B A B on two targets of one network (goal: strict at most 10% slower).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { classify } from '../../node/core/tiers/index.ts';
import { composeDaemon } from '../../node/daemon/compose.ts';
import type { Classifier } from '../../node/daemon/remote/policy.ts';
import { connectNode, type ExecEvent, type NodeClient } from '../../node/ipc/client.ts';
import { identityOf, makeKeys, memberStore, startPlainBroker } from '../helpers/bus-nodes.ts';
import { captureLogger } from '../helpers/log-capture.ts';
import { createNetwork, runNodeCli, startNodeProc, withStore } from '../helpers/node-procs.ts';
import { tempDir, waitFor } from '../helpers/tmp.ts';
import { alternate, figure, fmt, loadNow, median, say, timeMs } from './stats.ts';

const cleanups: (() => unknown)[] = [];
const ctx = { after: (fn: () => unknown) => void cleanups.push(fn) };
const ISAAC = resolve(import.meta.dirname, '../../node/cli/isaac.cjs');

function isaac(home: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [ISAAC, ...args], {
      env: { ...process.env, ISAAC_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) =>
      code === 0 ? done(out) : fail(new Error(`isaac ${args.join(' ')}: ${code}`)),
    );
  });
}

async function benchJoin(joins: number): Promise<void> {
  const net = await createNetwork(ctx, ['alpha']);
  const alphaHome = net.homes.alpha!;
  await startNodeProc(ctx, alphaHome);
  const total: number[] = [];
  const joinOnly: number[] = [];
  for (let i = 0; i < joins; i++) {
    const name = `m${i}`;
    const began = performance.now();
    const code = /isaac-node join (\S+)/.exec(await isaac(alphaHome, ['invite', name]))?.[1];
    if (!code) throw new Error('no invite code printed');
    joinOnly.push(
      await timeMs(async () => {
        const r = await runNodeCli(join(net.root, name), ['join', code]);
        if (r.code !== 0) throw new Error(`join failed: ${r.stderr}`);
      }),
    );
    await waitFor(
      () => withStore(alphaHome, (s) => s.machines.members().some((m) => m.name === name)),
      `${name} in alpha's roster`,
      60_000,
    );
    total.push(performance.now() - began);
  }
  say(
    `join: invite -> roster-visible ${total.map((v) => fmt(v, 0)).join(', ')} ms; of which isaac-node join ${joinOnly.map((v) => fmt(v, 0)).join(', ')} ms`,
  );
  figure({ name: 'trust.join_end_to_end', value: median(total), unit: 'ms' });
  figure({ name: 'trust.join_cli', value: median(joinOnly), unit: 'ms' });
}

async function execOnce(client: NodeClient, target: string, cmd: string): Promise<void> {
  const events: ExecEvent[] = [];
  await client.exec({ targets: target, cmd }, (e) => events.push(e)).done;
  const result = events.find((e) => e.event === 'result');
  if (result?.event !== 'result' || result.exit !== 0 || result.refused)
    throw new Error(`${target}: ${JSON.stringify(events)}`);
}

async function benchClassifiers(runs: number): Promise<void> {
  const broker = await startPlainBroker(ctx);
  const keys = ['alpha', 'strict', 'plain'].map(makeKeys);
  const strict: Classifier = (line) => classify(line, { strict: true });
  // the plain tiers, taken as proven: what the remote policy ran on before issue 11
  const plain: Classifier = (line) => ({ ...classify(line), unproven: [] });
  const nodes = [];
  for (const k of keys) {
    const home = tempDir(ctx);
    const { store } = memberStore(home, k, keys);
    const node = await composeDaemon({
      store,
      identity: identityOf(k),
      urls: [broker.url],
      connectOptions: () => ({ username: k.name, password: 'bench' }),
      version: 'bench',
      logger: captureLogger('warn').logger,
      ...(k.name === 'plain' ? { classify: plain } : k.name === 'strict' ? { classify: strict } : {}),
    });
    ctx.after(async () => {
      await node.stop();
      store.close();
    });
    nodes.push({ home, store });
  }
  const alpha = nodes[0]!;
  await waitFor(
    () => ['strict', 'plain'].every((n) => alpha.store.machines.get(n)?.status === 'online'),
    'targets online',
    30_000,
  );
  const client = await connectNode(alpha.home);
  if (!client) throw new Error('no socket');
  ctx.after(() => client.close());
  const lines: [string, string][] = [
    ['trust.exec_strict_vs_plain', 'uptime'],
    ['trust.exec_strict_vs_plain_pipeline', 'ps aux | grep -c node | sort -n | head -1'],
  ];
  for (const [name, cmd] of lines) {
    for (let i = 0; i < 10; i++) {
      await execOnce(client, 'strict', cmd);
      await execOnce(client, 'plain', cmd);
    }
    const { a, b } = await alternate(
      runs,
      () => execOnce(client, 'strict', cmd),
      () => execOnce(client, 'plain', cmd),
    );
    say(`!exec ${JSON.stringify(cmd)}: n=${runs} each, alternated strict/plain`);
    figure({
      name,
      value: median(a),
      unit: 'ms',
      reference: median(b),
      referenceLabel: 'plain tiers',
      goal: '<= 1.10x',
    });
  }
}

try {
  say(`load at start: ${loadNow()}`);
  await benchJoin(5);
  await benchClassifiers(100);
} finally {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {}
  }
}
process.exit(0);
