import { posix } from 'node:path';
import { exitStatusOf } from '../../../schemas/cli.ts';
import { errorLine, IsaacError, UsageError } from '../../../schemas/errors.ts';
import { isMachineName } from '../../../schemas/names.ts';
import { takeOptions } from '../../core/args.ts';
import { formatRows, jsonLines, printable } from '../../core/search/format.ts';
import { type HistoryQuery, matchingRecords, searchHistory } from '../../core/search/search.ts';
import { historyStats, parsePeriod, renderStats } from '../../core/search/stats.ts';
import { parseTimeSpec } from '../../core/search/when.ts';
import { COMMAND_KINDS, isCommandKind } from '../../core/store/command-kind.ts';
import { forgetMarker } from '../../core/store/sync-state.ts';
import { forgetAi } from './ai-history.ts';
import { synopsis } from './help-format.ts';
import type { CommandContext, CommandOption, SlashCommand } from './types.ts';

/** Prints an Isaac error as one line (status 2 for bad input); anything else is a real bug. */
function guarded(run: SlashCommand['run']): SlashCommand['run'] {
  return async (args, ctx) => {
    try {
      return await run(args, ctx);
    } catch (err) {
      if (!(err instanceof IsaacError)) throw err;
      ctx.io.err(`${errorLine(err)}\n`);
      return exitStatusOf(err);
    }
  };
}

export const FILTER_OPTIONS = {
  machine: 'string',
  since: 'string',
  until: 'string',
  exit: 'string',
  cwd: 'string',
  failed: 'boolean',
  type: 'string',
} as const;

/** The filters /search, /forget and !query share, as /help shows them. */
export const FILTER_HELP: readonly CommandOption[] = [
  { flag: '--machine M', help: 'only commands that ran on machine M' },
  { flag: '--since D', help: 'from D on: 3h, 2d, yesterday, 2026-11-03 (ISO dates)' },
  { flag: '--until D', help: 'before D (same forms as --since)' },
  { flag: '--exit N', help: 'only commands that exited with status N' },
  { flag: '--cwd DIR', help: 'only commands run in DIR' },
  { flag: '--failed', help: 'only commands that failed (exit status not 0)' },
  { flag: '--type T', help: 'shell, slash (/ and isaac CMD), bang (!), ai or remote' },
];

/** The options of a search (/search, !query) beyond the filters. */
export const SEARCH_HELP: readonly CommandOption[] = [
  ...FILTER_HELP,
  { flag: '--limit N', help: 'at most N results (default 20)' },
  { flag: '--every', help: 'every run of a command, not only its latest' },
  { flag: '--json', help: 'one JSON object per line' },
];

export function positiveInt(value: string, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
    throw new UsageError(`${what} must be a whole number from 1 to 100000, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function machineOption(value: string): string {
  if (!isMachineName(value)) {
    throw new UsageError(`invalid machine name ${JSON.stringify(value)}`, { hint: 'see /show machines' });
  }
  return value;
}

/** Shell-splitting removed the quotes; an argument with a space was a quoted phrase. */
export function patternText(rest: readonly string[]): string {
  return rest.map((a) => (/\s/.test(a) ? `"${a.replace(/"/g, '')}"` : a)).join(' ');
}

/** `~` and relative directories as the user means them (the shell does not expand option values here). */
function resolveDir(dir: string, env: NodeJS.ProcessEnv): string {
  if ((dir === '~' || dir.startsWith('~/')) && env.HOME) return posix.join(env.HOME, dir.slice(1));
  if (!dir.startsWith('/') && env.PWD) return posix.resolve(env.PWD, dir);
  return dir;
}

export function filterQuery(
  options: Record<string, string | boolean>,
  text: string,
  env: NodeJS.ProcessEnv,
): HistoryQuery {
  const query: HistoryQuery = { text };
  const str = (key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);
  const machine = str('machine');
  if (machine !== undefined) query.machine = machineOption(machine);
  const since = str('since');
  if (since !== undefined) query.since = parseTimeSpec(since).from;
  const until = str('until');
  if (until !== undefined) query.until = parseTimeSpec(until).to;
  if (query.since !== undefined && query.until !== undefined && query.since >= query.until) {
    throw new UsageError('--since is not before --until', { hint: 'swap the two dates' });
  }
  const exit = str('exit');
  if (exit !== undefined) {
    if (!/^-?\d+$/.test(exit)) throw new UsageError(`--exit needs a number, not ${JSON.stringify(exit)}`);
    query.exit = Number(exit);
  }
  const cwd = str('cwd');
  if (cwd !== undefined) query.cwd = resolveDir(cwd, env);
  if (options.failed === true) query.failed = true;
  const type = str('type');
  if (type !== undefined) {
    if (!isCommandKind(type)) {
      throw new UsageError(`unknown --type ${JSON.stringify(type)}`, {
        hint: `give one of ${COMMAND_KINDS.join(', ')}`,
      });
    }
    query.kind = type;
  }
  return query;
}

export function describe(query: HistoryQuery): string {
  const parts = [query.text ? `matching ${JSON.stringify(query.text)}` : ''];
  if (query.machine) parts.push(`on ${query.machine}`);
  if (query.cwd) parts.push(`in ${query.cwd}`);
  if (query.exit !== undefined) parts.push(`with exit ${query.exit}`);
  if (query.failed) parts.push('that failed');
  if (query.kind) parts.push(`of type ${query.kind}`);
  if (query.since !== undefined) parts.push(`since ${new Date(query.since).toLocaleString()}`);
  if (query.until !== undefined) parts.push(`before ${new Date(query.until).toLocaleString()}`);
  return parts.filter(Boolean).join(' ');
}

const search: SlashCommand = {
  name: 'search',
  usage: '/search PATTERN',
  options: SEARCH_HELP,
  summary: 'search every machine’s history held here (works offline): words, prefix*, "phrases"',
  run: guarded((args, ctx) => {
    const { options, rest } = takeOptions(args, {
      ...FILTER_OPTIONS,
      limit: 'string',
      every: 'boolean',
      json: 'boolean',
    });
    const query = filterQuery(options, patternText(rest), ctx.env);
    if (query.text === '' && Object.keys(query).length === 1) {
      throw new UsageError('/search needs a pattern or a filter', { hint: synopsis(search) });
    }
    query.limit = typeof options.limit === 'string' ? positiveInt(options.limit, '--limit') : 20;
    query.distinct = options.every !== true;
    const hits = searchHistory(ctx.store, query);
    if (options.json) {
      ctx.io.out(jsonLines(hits));
      return hits.length > 0 ? 0 : 1;
    }
    if (hits.length === 0) {
      ctx.io.err(`no command ${describe(query)}\n`);
      return 1;
    }
    ctx.io.out(formatRows(hits, { ansi: ctx.io.isTTY, home: ctx.env.HOME }));
    return 0;
  }),
};

const showHistory: SlashCommand = {
  name: 'show history',
  aliases: ['history'],
  usage: '/show history [n]',
  options: [
    { flag: '--machine M', help: 'only machine M’s commands' },
    { flag: '--all', help: 'every machine’s (the default)' },
    { flag: '--json', help: 'one JSON object per line' },
  ],
  summary: 'the n (default 20) most recent commands of every machine, oldest first',
  run: guarded((args, ctx) => {
    const { options, rest } = takeOptions(args, { machine: 'string', all: 'boolean', json: 'boolean' });
    if (rest.length > 1) throw new UsageError('too many arguments', { hint: synopsis(showHistory) });
    if (options.all && typeof options.machine === 'string') {
      throw new UsageError('--machine and --all exclude each other', { hint: synopsis(showHistory) });
    }
    const n = rest[0] === undefined ? 20 : positiveInt(rest[0], 'n');
    const machine = typeof options.machine === 'string' ? machineOption(options.machine) : undefined;
    const rows = ctx.store.history.recent(n, machine === undefined ? {} : { machine }).reverse();
    if (options.json) {
      ctx.io.out(jsonLines(rows));
      return 0;
    }
    if (rows.length === 0) {
      ctx.io.out(machine ? `no commands from ${machine} in history\n` : 'history is empty\n');
      return 0;
    }
    ctx.io.out(formatRows(rows, { ansi: ctx.io.isTTY, home: ctx.env.HOME }));
    return 0;
  }),
};

const showStats: SlashCommand = {
  name: 'show stats',
  usage: '/show stats [day|week|month|all]',
  options: [{ flag: '--json', help: 'print JSON instead of the chart' }],
  summary: 'commands per machine, top commands and an activity chart',
  run: guarded((args, ctx) => {
    const { options, rest } = takeOptions(args, { json: 'boolean' });
    if (rest.length > 1) throw new UsageError('too many arguments', { hint: synopsis(showStats) });
    const stats = historyStats(ctx.store.db, parsePeriod(rest[0]));
    if (options.json) ctx.io.out(`${JSON.stringify(stats)}\n`);
    else ctx.io.out(renderStats(stats, ctx.io.columns));
    return 0;
  }),
};

const forget: SlashCommand = {
  name: 'forget',
  usage: '/forget PATTERN',
  options: [...FILTER_HELP, { flag: '--ai', help: 'forget AI questions and answers instead' }],
  summary: 'delete every command matching PATTERN (whole words) here and, through sync, everywhere',
  historyLine: () => undefined,
  run: guarded(async (args, ctx: CommandContext) => {
    const { options, rest } = takeOptions(args, { ...FILTER_OPTIONS, ai: 'boolean' });
    if (options.ai) return forgetAi(patternText(rest), options, ctx);
    const query = filterQuery(options, patternText(rest), ctx.env);
    if (query.text.trim() === '') throw new UsageError('/forget needs a pattern', { hint: synopsis(forget) });
    const matches = matchingRecords(ctx.store, query);
    if (matches.length === 0) {
      ctx.io.out(`no command ${describe(query)}; nothing to forget\n`);
      return 1;
    }
    const sample = matches.slice(-5).map((m) => `  ${m.origin}: ${printable(m.command)}\n`);
    ctx.io.out(
      `${matches.length} command${matches.length === 1 ? '' : 's'} ${describe(query)}, e.g.\n${sample.join('')}`,
    );
    const ok = await ctx.io.confirm(
      `Forget ${matches.length} command${matches.length === 1 ? '' : 's'} on every machine?`,
    );
    if (!ok) {
      ctx.io.out('nothing deleted\n');
      return 1;
    }
    const tombstones = ctx.store.history.forget(
      matches.map((m) => m.id),
      forgetMarker(ctx.store.machineName()),
    );
    ctx.io.out(`forgot ${tombstones.length} command${tombstones.length === 1 ? '' : 's'}\n`);
    return 0;
  }),
};

export const HISTORY_COMMANDS: SlashCommand[] = [search, showHistory, showStats, forget];
