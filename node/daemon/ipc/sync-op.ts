import type { Store } from '../../core/store/store.ts';
import type {
  IpcRequest,
  IpcResponse,
  SyncPeerCounts,
  SyncPeerSummary,
  SyncSummary,
} from '../../ipc/protocol.ts';
import type { NodeDaemon } from '../daemon.ts';
import type { HistorySync } from '../sync/engine.ts';
import type { IpcOps } from './server.ts';

const PROGRESS_EVERY_MS = 100;

/** What the `sync` op needs from isaac-node; NodeDaemon + Store + HistorySync provide it (syncOps). */
export interface SyncOpDeps {
  sync: Pick<HistorySync, 'syncNow' | 'peerCounts'>;
  connected(): boolean;
  peers(): string[];
  /** the peer's retained status says online */
  isOnline(peer: string): boolean;
  /** resolves true when the peer answers a ping within timeoutMs */
  ping(peer: string, timeoutMs: number): Promise<boolean>;
}

export function syncOps(daemon: NodeDaemon, store: Store, sync: HistorySync): IpcOps {
  const deps: SyncOpDeps = {
    sync,
    connected: () => daemon.session.state.connected,
    peers: () =>
      store.machines
        .members()
        .map((m) => m.name)
        .filter((n) => n !== daemon.me),
    isOnline: (peer) => store.machines.get(peer)?.status === 'online',
    ping: async (peer, timeoutMs) => (await daemon.machineStatus(peer, timeoutMs)).rttMs !== undefined,
  };
  return { sync: (request, send) => runSyncOp(deps, request, send) };
}

/**
 * One catch-up round for a local shell. The sync requests are queued first and a ping to every
 * online peer right behind them: a peer handles its inbox in order, so its pong means it has seen
 * our request and queued its answer ahead of the pong. Progress is the per-peer change in the
 * engine's counters, sent whenever it changes.
 */
export async function runSyncOp(
  deps: SyncOpDeps,
  request: IpcRequest,
  send: (response: IpcResponse) => void,
): Promise<void> {
  if (request.op !== 'sync') return;
  const { rid } = request;
  const started = Date.now();
  const force = request.force === true;
  const peers = deps.peers();
  const connected = deps.connected();
  const summary: SyncSummary = { connected, force, settled: false, durationMs: 0, peers: {} };
  for (const peer of peers) {
    summary.peers[peer] = { sent: 0, received: 0, online: connected && deps.isOnline(peer), answered: false };
  }
  if (!connected) {
    summary.durationMs = Date.now() - started;
    send({ rid, event: 'sync-done', summary });
    return;
  }
  const baseline = snapshot(deps, peers, {});
  const timeoutMs = numberOr(request.timeoutMs, 60_000);
  const run = deps.sync.syncNow({ force, quietMs: numberOr(request.quietMs, 1000), timeoutMs });
  const pings = peers.map(async (peer) => {
    const entry = summary.peers[peer] as SyncPeerSummary;
    if (entry.online) entry.answered = await deps.ping(peer, Math.min(timeoutMs, 5000)).catch(() => false);
  });
  let last = '';
  const report = () => {
    const now = snapshot(deps, peers, baseline);
    const key = JSON.stringify(now);
    if (key !== last) send({ rid, event: 'sync-progress', peers: now });
    last = key;
  };
  const timer = setInterval(report, PROGRESS_EVERY_MS);
  try {
    const result = await run;
    await Promise.all(pings);
    report();
    summary.settled = result.settled;
    for (const peer of peers) {
      const moved = result.peers[peer] ?? { sent: 0, received: 0 };
      const entry = summary.peers[peer] as SyncPeerSummary;
      entry.sent = moved.sent;
      entry.received = moved.received;
    }
  } finally {
    clearInterval(timer);
  }
  summary.durationMs = Date.now() - started;
  send({ rid, event: 'sync-done', summary });
}

function snapshot(
  deps: SyncOpDeps,
  peers: readonly string[],
  baseline: Record<string, SyncPeerCounts>,
): Record<string, SyncPeerCounts> {
  const counts = deps.sync.peerCounts();
  const out: Record<string, SyncPeerCounts> = {};
  for (const peer of peers) {
    const c = counts[peer];
    const b = baseline[peer];
    out[peer] = { sent: (c?.sent ?? 0) - (b?.sent ?? 0), received: (c?.received ?? 0) - (b?.received ?? 0) };
  }
  return out;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? Math.min(value, 600_000)
    : fallback;
}
