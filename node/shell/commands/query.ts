import { UsageError } from '../../../schemas/errors.ts';
import { splitArgs, takeOptions } from '../../core/args.ts';
import { formatRows, jsonLines } from '../../core/search/format.ts';
import { searchHistory } from '../../core/search/search.ts';
import type { NodeClient, SyncSummary } from '../../ipc/client.ts';
import { connectNode, DAEMON_NOT_RUNNING } from '../../ipc/client.ts';
import { AI_FILTER_HELP, aiFilterFrom, aiJsonLines, formatAiRows } from './ai-history.ts';
import { synopsis } from './help-format.ts';
import { describe, FILTER_OPTIONS, filterQuery, patternText, positiveInt, SEARCH_HELP } from './history.ts';
import type { CommandContext } from './types.ts';

/**
 * `!query PATTERN [filters]`: the local cache first, then the peers, then the cache again.
 *
 * Asking peers reuses history catch-up instead of a query/query-result message pair: the daemon
 * sends every peer our `{origin: max seq}` map and each one sends the records of its own series
 * we lack. Those arrive signed by their origin, are stored (so the next search is offline and
 * instant), and the (origin, seq) key of the one table makes the merge a dedupe by construction.
 * A query answered by a peer with other machines' records could not be verified as theirs, and
 * results would be thrown away after one search. What it cannot give: the records of a machine
 * that is offline; the summary names those machines.
 */
export const QUERY_OPTIONS = [...SEARCH_HELP, ...AI_FILTER_HELP];
export const QUERY_USAGE = synopsis({ usage: '!query PATTERN', options: QUERY_OPTIONS });

/** How long a query waits for peers: it settles once nothing arrived for QUIET_MS. */
const QUIET_MS = 400;
const TIMEOUT_MS = 15_000;

export interface QueryMachines {
  /** online peers that confirmed they saw the request */
  answered: string[];
  /** online, but no answer within the time */
  silent: string[];
  offline: string[];
  /** why no peer was asked, when none was */
  notAsked?: string;
}

/**
 * Which machines answered, did not, or were offline. With `--machine M` only M counts: the
 * others' answers cannot change what the query shows.
 */
export function machinesFrom(summary: SyncSummary, machine?: string): QueryMachines {
  const m: QueryMachines = { answered: [], silent: [], offline: [] };
  const peers = Object.entries(summary.peers).filter(([name]) => machine === undefined || name === machine);
  for (const [name, p] of peers.sort(([a], [b]) => a.localeCompare(b))) {
    if (!p.online) m.offline.push(name);
    else if (p.answered) m.answered.push(name);
    else m.silent.push(name);
  }
  if (!summary.connected) m.notAsked = 'isaac-node is not connected to the broker';
  return m;
}

function machinesLine(m: QueryMachines, machine: string | undefined, me: string): string {
  const parts: string[] = [];
  if (m.notAsked) parts.push(`${m.notAsked}: local results only`);
  if (m.answered.length > 0) parts.push(`answered: ${m.answered.join(', ')}`);
  if (m.silent.length > 0) parts.push(`no answer: ${m.silent.join(', ')}`);
  if (m.offline.length > 0) parts.push(`offline: ${m.offline.join(', ')}`);
  if (parts.length === 0) {
    if (machine === undefined) parts.push('no other machines in this network');
    else if (machine === me) parts.push(`${machine} is this machine: its history is all here`);
    else parts.push(`${machine} is not a machine of this network: see /show machines`);
  }
  return parts.join(' · ');
}

/** One catch-up round with the online peers (the daemon's sync), and who answered it. */
async function askPeers(ctx: CommandContext, client: NodeClient | undefined, machine?: string) {
  const own = client ?? (await connectNode(ctx.store.home));
  if (!own) return { answered: [], silent: [], offline: [], notAsked: DAEMON_NOT_RUNNING };
  try {
    return machinesFrom(await own.sync({ quietMs: QUIET_MS, timeoutMs: TIMEOUT_MS }), machine);
  } finally {
    if (!client) own.close();
  }
}

/**
 * `!query --ai PATTERN`: the same three steps over the AI history. AI records are a series per
 * machine that catch-up carries beside the commands, so the same sync round fetches them.
 */
async function bangAiQuery(
  pattern: string,
  options: Record<string, string | boolean>,
  ctx: CommandContext,
  client: NodeClient | undefined,
): Promise<number> {
  const { json, ai: _ai, ...filters } = options;
  const filter = aiFilterFrom(filters);
  if (pattern === '' && Object.keys(filter).length === 1) {
    throw new UsageError('!query --ai needs a pattern or a filter', { hint: QUERY_USAGE });
  }
  const local = new Set(ctx.store.aiHistory.search(pattern, filter).map((r) => `${r.origin}#${r.seq}`));
  const machines = await askPeers(ctx, client, filter.machine);
  const hits = ctx.store.aiHistory.search(pattern, filter).reverse();
  const fromPeers = hits.filter((r) => !local.has(`${r.origin}#${r.seq}`)).length;
  if (json) {
    ctx.io.out(aiJsonLines(hits));
    ctx.io.out(`${JSON.stringify({ machines, fromPeers })}\n`);
    return hits.length > 0 ? 0 : 1;
  }
  if (hits.length === 0) ctx.io.err(`no AI question or answer matching ${JSON.stringify(pattern)}\n`);
  else ctx.io.out(formatAiRows(hits, { machine: true }));
  const found = fromPeers > 0 ? ` (${fromPeers} new from peers)` : '';
  ctx.io.out(`${machinesLine(machines, filter.machine, ctx.store.machineName())}${found}\n`);
  return hits.length > 0 ? 0 : 1;
}

export async function bangQuery(rest: string, ctx: CommandContext, client?: NodeClient): Promise<number> {
  const { options, rest: words } = takeOptions(splitArgs(rest), {
    ...FILTER_OPTIONS,
    limit: 'string',
    every: 'boolean',
    json: 'boolean',
    ai: 'boolean',
  });
  if (options.ai) return bangAiQuery(patternText(words), options, ctx, client);
  const query = filterQuery(options, patternText(words), ctx.env);
  if (query.text === '' && Object.keys(query).length === 1) {
    throw new UsageError('!query needs a pattern or a filter', { hint: QUERY_USAGE });
  }
  query.limit = typeof options.limit === 'string' ? positiveInt(options.limit, '--limit') : 20;
  query.distinct = options.every !== true;

  const local = searchHistory(ctx.store, query);
  const localKeys = new Set(local.map((h) => `${h.origin}#${h.seq}`));
  const machines = await askPeers(ctx, client, query.machine);
  // Ranked again over everything held now; a record deleted meanwhile (tombstone) stays gone.
  // (origin, seq) is the table's unique key, so what peers sent merges into it without doubles.
  const hits = searchHistory(ctx.store, query);
  const fromPeers = hits.filter((h) => !localKeys.has(`${h.origin}#${h.seq}`)).length;

  if (options.json) {
    ctx.io.out(jsonLines(hits));
    ctx.io.out(`${JSON.stringify({ machines, fromPeers })}\n`);
    return hits.length > 0 ? 0 : 1;
  }
  if (hits.length === 0) ctx.io.err(`no command ${describe(query)}\n`);
  else ctx.io.out(formatRows(hits, { ansi: ctx.io.isTTY, home: ctx.env.HOME }));
  const found = fromPeers > 0 ? ` (${fromPeers} new from peers)` : '';
  ctx.io.out(`${machinesLine(machines, query.machine, ctx.store.machineName())}${found}\n`);
  return hits.length > 0 ? 0 : 1;
}
