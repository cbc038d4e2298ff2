import { EXIT } from '../../../schemas/cli.ts';
import { UsageError } from '../../../schemas/errors.ts';
import { type MachineView, machineView } from '../../core/store/machines.ts';
import { enqueueWithoutDaemon } from '../../core/store/pending.ts';
import type { Store } from '../../core/store/store.ts';
import {
  connectNode,
  DAEMON_NOT_RUNNING,
  type ExecEvent,
  type MachineStatus,
  type NodeClient,
  type QueuedWhy,
} from '../../ipc/client.ts';
import { bangQuery, QUERY_OPTIONS } from './query.ts';
import type { CommandCall, CommandContext, CommandDef } from './types.ts';

/** Exit status of a `!` command that could not run because no network is configured. */
export const EXIT_NO_NETWORK = EXIT.usage;
/** Exit status of an `!exec` whose request was queued (target offline or no daemon): it has not run yet. */
export const EXIT_QUEUED = EXIT.queued;
export const EXIT_USAGE = EXIT.usage;
/** Exit status of an `!exec` cancelled with Ctrl-C (128 + SIGINT, as bash reports it). */
export const EXIT_INTERRUPTED = EXIT.interrupted;

const EXEC_USAGE = '!exec MACHINE[,MACHINE|glob|all] CMD';

export interface BangOptions {
  /** aborting it (Ctrl-C in the shell) cancels a running !exec on its targets */
  signal?: AbortSignal;
  /** a client the shell already holds; otherwise one is opened for this command */
  client?: NodeClient;
}

/** Parses `[--timeout S] [--ttl S] TARGETS CMD...`, keeping CMD exactly as typed. */
export function parseExecLine(rest: string): {
  targets: string;
  cmd: string;
  timeoutMs?: number;
  ttlMs?: number;
} {
  let s = rest.trimStart();
  const out: { targets: string; cmd: string; timeoutMs?: number; ttlMs?: number } = { targets: '', cmd: '' };
  for (;;) {
    const m = /^--(timeout|ttl)(?:=|\s+)(\S+)\s*/.exec(s);
    if (!m) break;
    const seconds = Number(m[2]);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new UsageError(`--${m[1]} needs a number of seconds`, { hint: 'e.g. --timeout 30' });
    if (m[1] === 'timeout') out.timeoutMs = Math.round(seconds * 1000);
    else out.ttlMs = Math.round(seconds * 1000);
    s = s.slice(m[0].length);
  }
  if (s.startsWith('--'))
    throw new UsageError(`unknown option ${s.split(/\s/)[0]}`, { hint: 'options: --timeout S --ttl S' });
  const m = /^(\S+)\s+([\s\S]+)$/.exec(s);
  if (!m)
    throw new UsageError(`usage: ${EXEC_USAGE}`, { hint: 'options before MACHINE: --timeout S --ttl S' });
  out.targets = m[1]!;
  out.cmd = m[2]!.trim();
  return out;
}

async function withClient<T>(
  ctx: CommandContext,
  options: BangOptions,
  fn: (c: NodeClient) => Promise<T>,
): Promise<T | undefined> {
  const client = options.client ?? (await connectNode(ctx.store.home));
  if (!client) return undefined;
  try {
    return await fn(client);
  } finally {
    if (!options.client) client.close();
  }
}

export async function bangExec(rest: string, ctx: CommandContext, options: BangOptions): Promise<number> {
  const req = parseExecLine(rest);
  const code = await withClient(ctx, options, (client) => runExec(client, req, ctx, options.signal));
  if (code !== undefined) return code;
  enqueueWithoutDaemon(ctx.store, { op: 'exec', ...req });
  ctx.io.err(`${DAEMON_NOT_RUNNING}\nqueued: !exec ${req.targets} will be sent when isaac-node starts\n`);
  return EXIT_QUEUED;
}

async function runExec(
  client: NodeClient,
  req: { targets: string; cmd: string; timeoutMs?: number; ttlMs?: number },
  ctx: CommandContext,
  signal?: AbortSignal,
): Promise<number> {
  const results = new Map<string, number>();
  const queued: string[] = [];
  const partial = new Map<string, string>();
  let multi = false;
  let failed = false;
  const width = () => Math.max(...[...partial.keys()].map((k) => k.length), 1);
  const write = (target: string, stream: 'stdout' | 'stderr', data: string) => {
    const sink = stream === 'stderr' ? ctx.io.err.bind(ctx.io) : ctx.io.out.bind(ctx.io);
    if (!multi) return sink(data);
    const text = (partial.get(target) ?? '') + data;
    const lines = text.split('\n');
    partial.set(target, lines.pop() ?? '');
    for (const l of lines) sink(`${target.padEnd(width())} | ${l}\n`);
  };
  const onEvent = (e: ExecEvent) => {
    switch (e.event) {
      case 'sent':
      case 'queued':
        if (!partial.has(e.target)) partial.set(e.target, '');
        multi = partial.size > 1;
        if (e.event === 'queued') {
          queued.push(e.target);
          ctx.io.err(`${queuedLine(e.target, e.why, e.detail)}, result will appear as a notification\n`);
        }
        break;
      case 'chunk':
        write(e.target, e.stream, e.data);
        break;
      case 'result': {
        const rest = partial.get(e.target);
        if (multi && rest) ctx.io.out(`${e.target.padEnd(width())} | ${rest}\n`);
        partial.set(e.target, '');
        if (e.refused) ctx.io.err(`${e.target}: refused: ${e.refused.reason}\n`);
        else if (e.error) ctx.io.err(`${e.target}: ${e.error}\n`);
        results.set(e.target, e.exit);
        break;
      }
      case 'error':
        failed = true;
        ctx.io.err(`${e.target ? `${e.target}: ` : ''}${e.message}\n`);
        break;
      default:
        break;
    }
  };
  const handle = client.exec(req, onEvent);
  // Ctrl-C: the daemon sends a cancel to every target still running it, and the prompt is back
  // at once; what the targets still send is dropped.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<true>((resolve) => {
    onAbort = () => {
      handle.cancel();
      resolve(true);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    if ((await Promise.race([handle.done, aborted])) === true) {
      const open = [...partial.keys()].filter((target) => !results.has(target));
      ctx.io.err(`cancelled (Ctrl-C): sent a cancel to ${open.join(', ') || 'the targets'}\n`);
      return EXIT_INTERRUPTED;
    }
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
  if (multi) {
    const summary = [...results]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([m, c]) => `${m}=${c}`)
      .concat(queued.map((m) => `${m}=queued`));
    ctx.io.err(`exit codes: ${summary.join(' ')}\n`);
  }
  const codes = [...results.values()];
  if (codes.length === 1 && queued.length === 0) return codes[0]!;
  const worst = codes.reduce((max, c) => (c !== 0 && c > max ? c : max), 0);
  if (worst !== 0) return worst;
  if (failed) return EXIT_USAGE;
  return queued.length > 0 ? EXIT_QUEUED : 0;
}

async function bangMsg(rest: string, ctx: CommandContext, options: BangOptions): Promise<number> {
  const m = /^(\S+)\s+([\s\S]+)$/.exec(rest.trim());
  if (!m) throw new UsageError('usage: !msg MACHINE TEXT');
  const [, target, text] = m as unknown as [string, string, string];
  const sent = await withClient(ctx, options, (client) => client.msg(target, text));
  if (sent === undefined) {
    enqueueWithoutDaemon(ctx.store, { op: 'msg', target, text });
    ctx.io.err(
      `${DAEMON_NOT_RUNNING}\nqueued: the message to ${target} will be sent when isaac-node starts\n`,
    );
    return 0;
  }
  ctx.io.err(
    sent.online
      ? `sent to ${target}\n`
      : sent.why === undefined || sent.why === 'offline'
        ? `queued for ${target} (offline), delivered when it comes back\n`
        : `${queuedLine(target, sent.why, sent.detail)}, delivered when it gets through\n`,
  );
  return 0;
}

/**
 * What a queued request says: the target is offline, or this machine cannot reach the broker
 * (then nothing is known about the target), or the broker refuses this machine's login.
 */
function queuedLine(target: string, why: QueuedWhy | undefined, detail: string | undefined): string {
  if (why === 'broker-unreachable')
    return `broker unreachable: queued for ${target}${detail ? ` (${detail})` : ''}; isaac-node sends it when it reaches the broker`;
  if (why === 'login-refused')
    return `the broker refuses this machine's login: queued for ${target}; sent once it lets this machine in`;
  return `queued for ${target} (offline)`;
}

async function bangStatus(words: string[], ctx: CommandContext, options: BangOptions): Promise<number> {
  const target = words[0];
  if (!target || words.length > 1) throw new UsageError('usage: !status MACHINE');
  const status = await withClient(ctx, options, (client) => client.status(target));
  if (status === undefined) {
    const row = ctx.store.machines.get(target);
    ctx.io.err(`${DAEMON_NOT_RUNNING}\n`);
    if (row) ctx.io.out(formatStatus(machineView(row)));
    return 1;
  }
  ctx.io.out(formatStatus(status));
  return status.state === 'online' ? 0 : 1;
}

export function formatStatus(s: MachineStatus): string {
  const lines = [`${s.name}: ${s.state}${s.rttMs !== undefined ? `, round trip ${s.rttMs} ms` : ''}`];
  if (s.lastSeen) lines.push(`  last seen  ${new Date(s.lastSeen).toISOString()}`);
  if (s.hostname) lines.push(`  hostname   ${s.hostname}`);
  if (s.os) lines.push(`  os         ${s.os}`);
  if (s.version) lines.push(`  version    ${s.version}`);
  if (s.address) lines.push(`  address    ${s.address}`);
  const outbox = s.retained?.outbox;
  if (typeof outbox === 'number') lines.push(`  outbox     ${outbox}`);
  return `${lines.join('\n')}\n`;
}

/** `/show machines` data: the roster with state, last seen, address, version. */
export function machinesView(store: Store): MachineView[] {
  return store.machines.list().map(machineView);
}

/** The `!` commands; node/shell/commands/bang.ts dispatches them (and `!NAME CMD`). */
export const BANG_COMMANDS: CommandDef[] = [
  {
    name: 'exec',
    usage: EXEC_USAGE,
    options: [
      { flag: '--timeout S', help: 'the target stops CMD after S s (default remote.timeout)' },
      { flag: '--ttl S', help: 'dropped if not delivered within S s (default 600)' },
    ],
    summary:
      'run CMD on machines (a comma list, a glob web*, or all) under their own tiers; output ' +
      'streams back and the exit status becomes yours. !NAME CMD is short for !exec NAME CMD',
    run: (_args, ctx, call) => bangExec(call?.text ?? '', ctx, bangOptions(call)),
  },
  {
    name: 'msg',
    usage: '!msg MACHINE TEXT',
    summary: 'send TEXT to a machine; it shows at its prompt (queued while it is offline)',
    run: (_args, ctx, call) => bangMsg(call?.text ?? '', ctx, bangOptions(call)),
  },
  {
    name: 'status',
    usage: '!status MACHINE',
    summary: 'a machine’s state, last seen, version, round-trip time',
    run: (args, ctx, call) => bangStatus(args, ctx, bangOptions(call)),
  },
  {
    name: 'query',
    usage: '!query PATTERN',
    options: QUERY_OPTIONS,
    summary: 'search history here, ask the online machines for what is missing, search again',
    run: (_args, ctx, call) => bangQuery(call?.text ?? '', ctx, call?.client),
  },
];

function bangOptions(call: CommandCall | undefined): BangOptions {
  return {
    ...(call?.signal ? { signal: call.signal } : {}),
    ...(call?.client ? { client: call.client } : {}),
  };
}
