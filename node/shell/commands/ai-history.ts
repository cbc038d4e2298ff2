import { UsageError } from '../../../schemas/errors.ts';
import { isMachineName } from '../../../schemas/names.ts';
import { takeOptions } from '../../core/args.ts';
import { parseTimeSpec } from '../../core/search/when.ts';
import type { AiHistoryFilter, AiRecord } from '../../core/store/ai-history.ts';
import { forgetMarker } from '../../core/store/sync-state.ts';
import { visible } from '../ai/parse.ts';
import { synopsis } from './help-format.ts';
import type { CommandContext, CommandOption, SlashCommand } from './types.ts';

/**
 * The AI history of every machine (node/core/store/ai-history.ts; synced like commands):
 * `/show ai-history`, `/clear ai-history`, and the parts of `!query --ai` and `/forget --ai`
 * that read and print it.
 */

/** The filters that apply to AI records (`!query --ai`, `/forget --ai`). */
export const AI_FILTER_HELP: readonly CommandOption[] = [
  { flag: '--ai', help: 'search the AI history (questions, answers, proposed commands) instead' },
];
const AI_FILTERS = new Set(['machine', 'since', 'until', 'limit', 'json', 'ai']);

function machineName(value: string): string {
  if (!isMachineName(value)) {
    throw new UsageError(`invalid machine name ${JSON.stringify(value)}`, { hint: 'see /show machines' });
  }
  return value;
}

function count(value: string, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000) {
    throw new UsageError(`${what} must be a whole number from 1 to 100000, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** The AI filters among parsed options; an option that only fits commands (--exit, --cwd, ...) is refused. */
export function aiFilterFrom(options: Record<string, string | boolean>): AiHistoryFilter & { limit: number } {
  for (const key of Object.keys(options)) {
    if (!AI_FILTERS.has(key)) {
      throw new UsageError(`--${key} does not apply to the AI history`, {
        hint: 'with --ai: --machine M, --since D, --until D, --limit N, --json',
      });
    }
  }
  const str = (key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);
  const filter: AiHistoryFilter & { limit: number } = {
    limit: str('limit') === undefined ? 20 : count(str('limit')!, '--limit'),
  };
  const machine = str('machine');
  if (machine !== undefined) filter.machine = machineName(machine);
  const since = str('since');
  if (since !== undefined) filter.since = parseTimeSpec(since).from;
  const until = str('until');
  if (until !== undefined) filter.until = parseTimeSpec(until).to;
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw new UsageError('--since is not before --until', { hint: 'swap the two dates' });
  }
  return filter;
}

function oneLine(text: string, max: number): string {
  const flat = visible(text.replace(/\s+/g, ' ').trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Two lines a record: when, machine (with `machine`), kind, provider, question; then the outcome. */
export function formatAiRows(rows: readonly AiRecord[], options: { machine: boolean }): string {
  let out = '';
  for (const e of rows) {
    const when = new Date(e.ts).toISOString().replace('T', ' ').slice(0, 19);
    const outcome = e.error
      ? `error: ${e.error}`
      : e.command
        ? `$ ${e.command}`
        : ((e.answer ?? '').split('\n').find((l) => l.trim()) ?? '');
    const via = e.provider ? ` [${e.provider}]` : '';
    const where = options.machine ? ` ${e.origin}` : '';
    out += `${when}${where} ${e.kind}${via}: ${oneLine(e.question, 80)}\n    → ${oneLine(outcome, 100)}\n`;
  }
  return out;
}

/** One JSON object per record, its fields named as `/show history --json` names them. */
export function aiJsonLines(rows: readonly AiRecord[]): string {
  return rows
    .map(({ id: _id, origin, seq, ts, ...rest }) => {
      const time = new Date(ts).toISOString();
      return `${JSON.stringify({ machine: origin, seq, ts, time, ...rest })}\n`;
    })
    .join('');
}

const showAiHistory: SlashCommand = {
  name: 'show ai-history',
  usage: '/show ai-history [n]',
  options: [
    { flag: '--machine M', help: 'machine M’s questions (synced from it)' },
    { flag: '--all', help: 'every machine’s' },
    { flag: '--json', help: 'print JSON instead of text' },
  ],
  summary: 'the n (default 20) latest AI questions and answers of this machine, newest last',
  run(args, ctx) {
    const { options, rest } = takeOptions(args, { machine: 'string', all: 'boolean', json: 'boolean' });
    if (rest.length > 1) throw new UsageError('too many arguments', { hint: synopsis(showAiHistory) });
    if (options.all && typeof options.machine === 'string') {
      throw new UsageError('--machine and --all exclude each other', { hint: synopsis(showAiHistory) });
    }
    const n = rest[0] === undefined ? 20 : count(rest[0], 'n');
    const me = ctx.store.machineName();
    const machine = typeof options.machine === 'string' ? machineName(options.machine) : undefined;
    const scope = options.all ? {} : { machine: machine ?? me };
    const entries = ctx.store.aiHistory.recent(n, scope).reverse();
    if (options.json) {
      ctx.io.out(`${JSON.stringify(entries, null, 2)}\n`);
      return 0;
    }
    if (entries.length === 0) {
      ctx.io.out(machine && !options.all ? `no AI queries from ${machine}\n` : 'no AI queries yet\n');
      return 0;
    }
    ctx.io.out(formatAiRows(entries, { machine: options.all === true || (machine ?? me) !== me }));
    return 0;
  },
};

const clearAiHistory: SlashCommand = {
  name: 'clear ai-history',
  usage: '/clear ai-history',
  options: [{ flag: '--all', help: 'every machine’s AI records held here, not only this one’s' }],
  summary: 'delete this machine’s AI history here and, through sync, on every machine (asks first)',
  historyLine: () => undefined,
  async run(args, ctx) {
    const { options, rest } = takeOptions(args, { all: 'boolean' });
    if (rest.length > 0) throw new UsageError('too many arguments', { hint: synopsis(clearAiHistory) });
    const me = ctx.store.machineName();
    const scope = options.all
      ? 'every AI record held here (all machines)'
      : `this machine’s AI history (${me})`;
    if (!(await ctx.io.confirm(`Delete ${scope}? This cannot be undone.`))) {
      ctx.io.out('nothing deleted\n');
      return 1;
    }
    const removed = ctx.store.aiHistory.clear(me, { all: options.all === true });
    ctx.io.out(`deleted ${removed} AI record${removed === 1 ? '' : 's'}\n`);
    return 0;
  },
};

/** `/forget --ai PATTERN`: matching AI records, here and (through sync) on every machine. */
export async function forgetAi(
  pattern: string,
  options: Record<string, string | boolean>,
  ctx: CommandContext,
): Promise<number> {
  const filter = aiFilterFrom({ ...options });
  if (pattern.trim() === '') throw new UsageError('/forget --ai needs a pattern');
  const matches = ctx.store.aiHistory.search(pattern, { ...filter, limit: Number.MAX_SAFE_INTEGER });
  if (matches.length === 0) {
    ctx.io.out(`no AI record matching ${JSON.stringify(pattern)}; nothing to forget\n`);
    return 1;
  }
  const n = matches.length;
  const sample = matches.slice(0, 5).map((m) => `  ${m.origin}: ${oneLine(m.question, 70)}\n`);
  ctx.io.out(
    `${n} AI record${n === 1 ? '' : 's'} matching ${JSON.stringify(pattern)}, e.g.\n${sample.join('')}`,
  );
  if (!(await ctx.io.confirm(`Forget ${n} AI record${n === 1 ? '' : 's'} on every machine?`))) {
    ctx.io.out('nothing deleted\n');
    return 1;
  }
  const gone = ctx.store.aiHistory.forget(
    matches.map((m) => m.id),
    forgetMarker(ctx.store.machineName()),
  );
  ctx.io.out(`forgot ${gone} AI record${gone === 1 ? '' : 's'}\n`);
  return 0;
}

export const AI_HISTORY_COMMANDS: SlashCommand[] = [showAiHistory, clearAiHistory];
