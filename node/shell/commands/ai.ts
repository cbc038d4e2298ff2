import { exitStatusOf } from '../../../schemas/cli.ts';
import { errorLine, UsageError } from '../../../schemas/errors.ts';
import { takeOptions } from '../../core/args.ts';
import type { Store } from '../../core/store/store.ts';
import { type AskResult, type Assistant, createAssistant } from '../ai/assistant.ts';
import type { FetchFn } from '../ai/providers/types.ts';
import { CancelledError } from '../ai/providers/types.ts';
import type { CommandContext, SlashCommand } from './types.ts';

/** What the shell knows and the command context does not carry: live cwd, Ctrl-C, the fetch to use. */
export interface AiWiring {
  cwd?: () => string;
  shell?: () => string;
  fetch?: FetchFn;
  /** A fresh signal per AI request that aborts on Ctrl-C. */
  signal?: () => AbortSignal | undefined;
}

let wiring: AiWiring = {};
const assistants = new WeakMap<Store, Assistant>();

/** Called once by the shell; later assistants use it. */
export function configureAi(next: AiWiring): void {
  wiring = next;
}

/** One assistant per open store (so drains in this process never overlap). */
export function assistantFor(ctx: Pick<CommandContext, 'store' | 'env'>): Assistant {
  let assistant = assistants.get(ctx.store);
  if (!assistant) {
    assistant = createAssistant({
      store: ctx.store,
      env: ctx.env,
      fetch: wiring.fetch,
      cwd: wiring.cwd,
      shell: wiring.shell,
    });
    assistants.set(ctx.store, assistant);
  }
  return assistant;
}

/**
 * `isaac <words>` and `/ask <words>`: propose a command (or answer), then Enter runs it through
 * ctx.runLine — the full router, tiers included — `e` edits it first, `n` drops it. Without a
 * terminal the proposal is printed and runs only with --yes, still through the tiers.
 */
export async function runNaturalLanguage(
  words: string,
  ctx: CommandContext,
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const request = words.trim();
  const { io } = ctx;
  if (!request) {
    io.err('usage: isaac <what you want to do>\n');
    return 2;
  }
  const assistant = assistantFor(ctx);
  const printer = io.isTTY ? new StreamPrinter((text) => io.out(text)) : undefined;
  let result: AskResult;
  try {
    assistant.providers();
    result = await assistant.ask(request, {
      signal: options.signal ?? wiring.signal?.(),
      onToken: printer ? (token) => printer.write(token) : undefined,
    });
  } catch (err) {
    return failed(err, ctx, printer);
  }
  printer?.end();
  if (result.kind === 'queued') {
    io.err(
      `no AI provider reachable; question queued, the answer will appear in /show messages (${result.reason})\n`,
    );
    return 0;
  }
  for (const note of result.skipped ?? []) io.err(`(${note}; answered by ${result.provider})\n`);
  if (result.kind === 'answer') {
    if (!printer?.printed) io.out(`${result.text}\n`);
    return 0;
  }
  if (!printer?.printed) {
    io.out(`  $ ${result.command}\n`);
    if (result.explanation) io.out(`${result.explanation}\n`);
  }
  return await offerToRun(result.command, ctx);
}

async function offerToRun(proposed: string, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  let command = proposed;
  if (!io.isTTY) {
    if (!ctx.assumeYes) {
      io.err(
        'not run (no terminal to confirm): run it yourself, or pass --yes to run it through the tiers\n',
      );
      return 0;
    }
  } else if (io.ask) {
    const choice = (await io.ask('Enter runs it · e edits · n drops: '))?.trim().toLowerCase();
    if (choice === undefined || choice === 'n' || choice === 'no') {
      io.out('dropped\n');
      return 0;
    }
    if (choice === 'e' || choice === 'edit') {
      const edited = (await io.ask('edit: ', command))?.trim();
      if (!edited) {
        io.out('dropped\n');
        return 0;
      }
      command = edited;
    } else if (choice !== '' && choice !== 'y' && choice !== 'yes') {
      io.out('dropped\n');
      return 0;
    }
  } else if (!(await io.confirm(`run ${command}?`))) {
    io.out('dropped\n');
    return 0;
  }
  if (!ctx.runLine) {
    io.err('cannot run commands from here; copy the command into the shell\n');
    return 1;
  }
  return await ctx.runLine(command); // the full router: an AI-proposed command never skips the tiers
}

function failed(err: unknown, ctx: CommandContext, printer: StreamPrinter | undefined): number {
  printer?.end();
  ctx.io.err(err instanceof CancelledError ? 'cancelled\n' : `${errorLine(err)}\n`);
  return exitStatusOf(err);
}

/**
 * Echoes streamed tokens as they come, showing the fenced command as `  $ command` instead of
 * raw ``` markers.
 */
export class StreamPrinter {
  printed = false;
  private holding: string | undefined;
  private atLineStart = true;
  private inFence = false;

  constructor(private readonly emit: (text: string) => void) {}

  write(token: string): void {
    let out = '';
    for (const ch of token) {
      if (this.holding !== undefined) {
        this.holding += ch;
        if (ch === '\n') {
          if (this.holding.startsWith('```')) this.inFence = !this.inFence;
          else out += this.holding;
          this.holding = undefined;
          this.atLineStart = true;
        } else if (!'```'.startsWith(this.holding) && !this.holding.startsWith('```')) {
          out += this.linePrefix() + this.holding;
          this.holding = undefined;
          this.atLineStart = false;
        }
        continue;
      }
      if (this.atLineStart && ch === '`') {
        this.holding = '`';
        continue;
      }
      if (this.atLineStart && ch !== '\n') out += this.linePrefix();
      out += ch;
      this.atLineStart = ch === '\n';
    }
    if (out) {
      this.printed = true;
      this.emit(out);
    }
  }

  end(): void {
    if (this.holding !== undefined && !this.holding.startsWith('```')) this.emit(this.holding);
    this.holding = undefined;
    if (this.printed && !this.atLineStart) this.emit('\n');
    this.atLineStart = true;
  }

  private linePrefix(): string {
    return this.inFence ? '  $ ' : '';
  }
}

async function explainLast(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length > 0)
    throw new UsageError('/explain takes no arguments', { hint: 'it explains your last command' });
  const last = ctx.store.history.recent(1, { machine: ctx.store.machineName() })[0];
  if (!last) {
    ctx.io.err('nothing to explain yet: run a command first\n');
    return 1;
  }
  const assistant = assistantFor(ctx);
  const printer = ctx.io.isTTY ? new StreamPrinter((text) => ctx.io.out(text)) : undefined;
  try {
    assistant.providers();
    const result = await assistant.explain(last, {
      signal: wiring.signal?.(),
      onToken: printer ? (token) => printer.write(token) : undefined,
    });
    printer?.end();
    if (result.kind === 'queued') {
      ctx.io.err(`no AI provider reachable; /explain queued, the answer will appear in /show messages\n`);
    } else if (!printer?.printed) {
      ctx.io.out(
        `${result.kind === 'answer' ? result.text : `${result.explanation}\n  $ ${result.command}`}\n`,
      );
    }
    return 0;
  } catch (err) {
    return failed(err, ctx, printer);
  }
}

function showAiHistory(args: string[], ctx: CommandContext): number {
  const { options, rest } = takeOptions(args, { json: 'boolean' });
  if (rest.length > 1 || (rest[0] !== undefined && !/^\d+$/.test(rest[0]))) {
    throw new UsageError('usage: /show ai-history [n] [--json]');
  }
  const entries = assistantFor(ctx)
    .history(Number(rest[0] ?? 20))
    .reverse();
  if (options.json) {
    ctx.io.out(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    ctx.io.out('no AI queries yet\n');
    return 0;
  }
  for (const e of entries) {
    const when = new Date(e.ts).toISOString().replace('T', ' ').slice(0, 19);
    const outcome = e.error
      ? `error: ${e.error}`
      : e.command
        ? `$ ${e.command}`
        : ((e.answer ?? '').split('\n').find((l) => l.trim()) ?? '');
    const via = e.provider ? ` [${e.provider}]` : '';
    ctx.io.out(`${when} ${e.kind}${via}: ${oneLine(e.question, 80)}\n    → ${oneLine(outcome, 100)}\n`);
  }
  return 0;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export const AI_COMMANDS: SlashCommand[] = [
  {
    name: 'ask',
    usage: '/ask <words>',
    summary: 'ask the AI for a command (shown first; Enter runs it through the tiers) or an answer',
    run: (args, ctx) => runNaturalLanguage(args.join(' '), ctx),
  },
  {
    name: 'explain',
    usage: '/explain',
    summary: 'have the AI explain your last command and its output',
    run: explainLast,
  },
  {
    name: 'show context',
    usage: '/show context [--full]',
    summary: 'print exactly the context sent to the AI (--full: with the instructions of isaac <words>)',
    run: (args, ctx) => {
      const { options, rest } = takeOptions(args, { full: 'boolean' });
      if (rest.length > 0) throw new UsageError('usage: /show context [--full]');
      const assistant = assistantFor(ctx);
      ctx.io.out(`${options.full ? assistant.systemPrompt() : assistant.buildContext()}\n`);
      return 0;
    },
  },
  {
    name: 'show ai-history',
    usage: '/show ai-history [n] [--json]',
    summary: 'your AI queries on this machine, newest last',
    run: showAiHistory,
  },
];
