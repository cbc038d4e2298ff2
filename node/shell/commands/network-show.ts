import { takeOptions } from '../../core/args.ts';
import { loginProblem } from '../../core/identity/login-status.ts';
import { peerSyncStatus } from '../../core/store/sync-state.ts';
import { connectNode } from '../../ipc/client.ts';
import type { NodeStatus } from '../../ipc/protocol.ts';
import { networkConfigured } from '../network-state.ts';
import { formatWhen, printTable } from './format.ts';
import { machinesView } from './remote.ts';
import type { CommandContext, SlashCommand } from './types.ts';

/** The network half of `/show status`: the daemon's connection and outbox, and per-peer sync lag. */
export interface NetworkStatus {
  network: 'none' | 'configured';
  daemon: 'running' | 'not running' | 'n/a';
  connected?: boolean;
  broker?: string;
  /** why the daemon's last connect failed (the broker unreachable), when not connected */
  lastError?: string;
  /** the broker refuses this machine's login: revoked, bad credentials, throttled */
  login?: { state: string; line: string };
  outbox: number;
  refusals?: Record<string, number>;
  peers: { peer: string; lag: number; lastSync: number | null }[];
}

export async function networkStatus(ctx: CommandContext): Promise<NetworkStatus> {
  const { store } = ctx;
  if (!networkConfigured(store.home))
    return {
      network: 'none',
      daemon: 'n/a',
      outbox: store.outbox.count() + store.pending.count(),
      peers: [],
    };
  let node: NodeStatus | undefined;
  const client = await connectNode(store.home, 500).catch(() => undefined);
  if (client) {
    try {
      node = await client.nodeStatus();
    } catch {
      node = undefined;
    } finally {
      client.close();
    }
  }
  const me = store.machineName();
  const peers = store.machines
    .members()
    .map((m) => m.name)
    .filter((n) => n !== me);
  const login = loginProblem(store);
  return {
    network: 'configured',
    daemon: node ? 'running' : 'not running',
    connected: node?.connected,
    broker: node?.broker,
    ...(node?.lastError && !node.connected ? { lastError: node.lastError } : {}),
    ...(login ? { login: { state: login.state, line: login.line } } : {}),
    outbox: node?.outbox ?? store.outbox.count() + store.pending.count(),
    refusals: node?.refusals,
    peers: peerSyncStatus(store.db, me, peers),
  };
}

export function networkStatusRows(s: NetworkStatus): string[][] {
  const rows = [['network', s.network]];
  if (s.network === 'none') return rows;
  rows.push(['isaac-node', s.daemon]);
  if (s.login) rows.push(['login', s.login.line]);
  if (s.daemon === 'running')
    rows.push([
      'connection',
      s.connected
        ? `connected to ${s.broker}`
        : s.login
          ? 'not connected: the broker refuses this machine (see login)'
          : `not connected: broker unreachable${s.lastError ? ` (${s.lastError})` : ''}; requests are queued`,
    ]);
  rows.push(['outbox', String(s.outbox)]);
  for (const p of s.peers) {
    rows.push([`sync ${p.peer}`, `${p.lag} behind, last ${p.lastSync ? formatWhen(p.lastSync) : 'never'}`]);
  }
  return rows;
}

const showMachines: SlashCommand = {
  name: 'show machines',
  usage: '/show machines',
  options: [{ flag: '--json', help: 'print JSON instead of a table' }],
  summary: 'the network’s machines: online/offline, last seen, address, version',
  run(args, ctx) {
    const { options } = takeOptions(args, { json: 'boolean' });
    const machines = machinesView(ctx.store);
    if (options.json) {
      ctx.io.out(`${JSON.stringify(machines)}\n`);
      return 0;
    }
    if (machines.length === 0) {
      ctx.io.out(
        networkConfigured(ctx.store.home)
          ? 'no machines known yet: is isaac-node running? (isaac-node start)\n'
          : 'no network configured: run `isaac-node init` (first machine) or `isaac-node join CODE`\n',
      );
      return 0;
    }
    printTable(
      ctx.io,
      ['machine', 'state', 'last seen', 'address', 'version'],
      machines.map((m) => [
        m.name,
        m.state,
        m.lastSeen ? formatWhen(m.lastSeen) : '-',
        m.address ?? '-',
        m.version ?? '-',
      ]),
    );
    return 0;
  },
};

export const NETWORK_SHOW_COMMANDS: SlashCommand[] = [showMachines];
