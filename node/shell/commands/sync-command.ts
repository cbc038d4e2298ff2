import { exitStatusOf } from '../../../schemas/cli.ts';
import { errorLine, IsaacError, UsageError } from '../../../schemas/errors.ts';
import { takeOptions } from '../../core/args.ts';
import {
  connectNode,
  DAEMON_NOT_RUNNING,
  type NodeClient,
  type SyncPeerCounts,
  type SyncSummary,
} from '../../ipc/client.ts';
import { NO_NETWORK_LINE, networkConfigured } from '../network-state.ts';
import { printTable } from './format.ts';
import { synopsis } from './help-format.ts';
import type { CommandContext, CommandIO, SlashCommand } from './types.ts';

/** /sync exit statuses: 0 done; 1 stopped waiting while records still moved, or no broker; 2 cannot run. */
export const EXIT_SYNC_UNSETTLED = 1;
export const EXIT_SYNC_UNAVAILABLE = 2;

/** Only a large or slow catch-up gets a bar; a quick small /sync prints its table and nothing else. */
const BAR_AFTER_MS = 400;
const BAR_AFTER_RECORDS = 1000;
const BAR_WIDTH = 24;

/**
 * A progress line redrawn in place (\r) on a TTY. The number of records still to come is not
 * known in advance (each peer decides what we lack), so the bar moves with the records that
 * arrive and the counts beside it are exact.
 */
export function progressRenderer(
  io: CommandIO,
  now: () => number = Date.now,
): {
  update(peers: Record<string, SyncPeerCounts>): void;
  clear(): void;
} {
  const started = now();
  let drawn = false;
  let frame = 0;
  return {
    update(peers) {
      if (!io.isTTY) return;
      const total = Object.values(peers).reduce((n, p) => n + p.sent + p.received, 0);
      if (now() - started < BAR_AFTER_MS && total < BAR_AFTER_RECORDS) return;
      const pos = frame++ % (2 * (BAR_WIDTH - 4));
      const at = pos < BAR_WIDTH - 4 ? pos : 2 * (BAR_WIDTH - 4) - pos;
      const bar = `${' '.repeat(at)}====${' '.repeat(BAR_WIDTH - 4 - at)}`;
      const each = Object.entries(peers)
        .map(([peer, c]) => `${peer} ↓${c.received} ↑${c.sent}`)
        .join('  ');
      const line = `syncing [${bar}] ${total} records  ${each}`;
      io.err(`\r\x1b[K${line.slice(0, Math.max(20, io.columns - 1))}`);
      drawn = true;
    },
    clear() {
      if (drawn) io.err('\r\x1b[K');
      drawn = false;
    },
  };
}

function peerState(p: SyncSummary['peers'][string]): string {
  if (!p.online) return 'offline: catches up when it is back';
  return p.answered ? 'online, answered' : 'online, no answer yet';
}

export function printSummary(io: CommandIO, summary: SyncSummary): void {
  const names = Object.keys(summary.peers).sort();
  if (names.length === 0) {
    io.out('no other machines in this network yet\n');
    return;
  }
  let sent = 0;
  let received = 0;
  const rows = names.map((name) => {
    const p = summary.peers[name]!;
    sent += p.sent;
    received += p.received;
    return [name, String(p.sent), String(p.received), peerState(p)];
  });
  rows.push(['total', String(sent), String(received), summary.settled ? '' : 'still moving when it stopped']);
  if (summary.force) io.out('catch-up from zero (force)\n');
  printTable(io, ['peer', 'sent', 'received', 'state'], rows);
}

/** Opens the shell's connection to isaac-node, or undefined when none runs. */
export async function nodeClient(ctx: CommandContext): Promise<NodeClient | undefined> {
  return connectNode(ctx.store.home);
}

export async function runSync(
  ctx: CommandContext,
  options: { force: boolean; json: boolean },
  client?: NodeClient,
): Promise<number> {
  if (!networkConfigured(ctx.store.home)) {
    ctx.io.err(`${NO_NETWORK_LINE}\n`);
    return EXIT_SYNC_UNAVAILABLE;
  }
  const own = client ?? (await nodeClient(ctx));
  if (!own) {
    ctx.io.err(`${DAEMON_NOT_RUNNING}\n`);
    return EXIT_SYNC_UNAVAILABLE;
  }
  const bar = progressRenderer(ctx.io);
  let summary: SyncSummary;
  try {
    summary = await own.sync({ force: options.force }, (peers) => bar.update(peers));
  } finally {
    bar.clear();
    if (!client) own.close();
  }
  if (options.json) {
    ctx.io.out(`${JSON.stringify(summary)}\n`);
  } else if (!summary.connected) {
    ctx.io.err(
      'isaac-node is not connected to the broker: nothing asked; it catches up by itself on reconnect\n',
    );
  } else {
    printSummary(ctx.io, summary);
  }
  if (!summary.connected) return EXIT_SYNC_UNSETTLED;
  return summary.settled ? 0 : EXIT_SYNC_UNSETTLED;
}

export const syncCommand: SlashCommand = {
  name: 'sync',
  usage: '/sync [force]',
  options: [{ flag: '--json', help: 'print the summary as JSON' }],
  summary: 'catch up history with the other machines now; force: again from zero',
  async run(args, ctx) {
    try {
      const { options, rest } = takeOptions(args, { json: 'boolean', force: 'boolean' });
      if (rest.length > 1 || (rest[0] !== undefined && rest[0] !== 'force')) {
        throw new UsageError(`unknown argument ${JSON.stringify(rest.join(' '))}`, {
          hint: synopsis(syncCommand),
        });
      }
      return await runSync(ctx, {
        force: rest[0] === 'force' || options.force === true,
        json: !!options.json,
      });
    } catch (err) {
      if (!(err instanceof IsaacError)) throw err;
      ctx.io.err(`${errorLine(err)}\n`);
      return exitStatusOf(err);
    }
  },
};

export const SYNC_COMMANDS: SlashCommand[] = [syncCommand];
