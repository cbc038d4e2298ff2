import { exitStatusOf } from '../../../schemas/cli.ts';
import { errorLine, UsageError } from '../../../schemas/errors.ts';
import { takeOptions } from '../../core/args.ts';
import type { Store } from '../../core/store/store.ts';
import { type AskResult, type Assistant, createAssistant } from '../ai/assistant.ts';
import { visible } from '../ai/parse.ts';
import type { FetchFn } from '../ai/providers/types.ts';
import { CancelledError } from '../ai/providers/types.ts';
import { StreamPrinter } from '../ai/render.ts';
import { EXIT_REFUSED } from '../executor.ts';
import { classifyWithSettings } from '../tier-settings.ts';
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
 * `isaac <words>` and `/ask <words>`: propose a command (or alternatives, or an answer). What is
 * offered is printed from the parsed reply after the stream ends, so what is seen is what runs;
 * Enter runs it through ctx.runLine — the full router, tiers included — `e` edits it first, `n`
 * drops it. Without a terminal the proposal is printed and runs only with --yes, and never when
 * it is of tier 3 or above: that needs a person at a terminal.
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
  for (const notice of result.notices ?? []) io.err(`(${notice})\n`);
  if (result.kind === 'queued') {
    io.err(`${result.reason}; question queued, the answer will appear in /show messages\n`);
    return 0;
  }
  for (const note of result.skipped ?? []) io.err(`(${note}; answered by ${result.provider})\n`);
  if (result.kind === 'answer') {
    if (!printer?.printed) io.out(`${visible(result.text)}\n`);
    if (result.refused) io.err(`${result.refused}\n`);
    return result.refused ? 1 : 0;
  }
  if (result.kind === 'choice') {
    if (!printer && result.explanation) io.out(`${visible(result.explanation)}\n`);
    for (const [i, command] of result.commands.entries()) io.out(`  ${i + 1}) ${command}\n`);
    return await offerChoice(result.commands, ctx);
  }
  io.out(`  $ ${result.command}\n`);
  if (!printer && result.explanation) io.out(`${visible(result.explanation)}\n`);
  return await offerToRun(result.command, ctx);
}

/** Alternatives: a person picks one by number; nobody at a terminal means none runs. */
async function offerChoice(commands: string[], ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  if (!io.isTTY || !io.ask) {
    io.err('alternatives: none run (no terminal to choose); pick one and run it yourself\n');
    return 0;
  }
  const answer = (await io.ask(`Run which? 1-${commands.length} · n drops:`))?.trim();
  const picked = answer && /^\d+$/.test(answer) ? commands[Number(answer) - 1] : undefined;
  if (picked === undefined) {
    io.out('dropped\n');
    return 0;
  }
  io.out(`  $ ${picked}\n`);
  return await offerToRun(picked, ctx);
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
  if (!(await personConfirmsRisk(command, ctx))) return EXIT_REFUSED;
  if (!ctx.runLine) {
    io.err('cannot run commands from here; copy the command into the shell\n');
    return 1;
  }
  return await ctx.runLine(command); // the full router: an AI-proposed command never skips the tiers
}

/**
 * --yes answers the router's tier-3 question by itself; for a line the AI wrote that is not
 * enough. Tier 4 is refused here already; tier 3 under --yes needs a yes typed at a terminal.
 */
async function personConfirmsRisk(command: string, ctx: CommandContext): Promise<boolean> {
  const verdict = classifyWithSettings(command, ctx.store);
  if (verdict.tier === 4) {
    ctx.io.err(`isaac: refused (tier 4, never runs): ${verdict.reason}\n`);
    return false;
  }
  if (verdict.tier < 3 || !ctx.assumeYes) return true;
  if (!ctx.io.isTTY || !ctx.io.ask) {
    ctx.io.err(
      `isaac: not run: tier ${verdict.tier} (${verdict.reason}); an AI-proposed command of tier 3 or above needs a person to confirm it at a terminal, --yes does not count\n`,
    );
    return false;
  }
  const answer = await ctx.io.ask(`tier ${verdict.tier}: ${verdict.reason}. Type yes to run it:`);
  if (/^yes$/i.test(answer?.trim() ?? '')) return true;
  ctx.io.err('isaac: not run\n');
  return false;
}

function failed(err: unknown, ctx: CommandContext, printer: StreamPrinter | undefined): number {
  printer?.end();
  ctx.io.err(err instanceof CancelledError ? 'cancelled\n' : `${errorLine(err)}\n`);
  return exitStatusOf(err);
}

async function explainLast(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length > 0)
    throw new UsageError('/explain takes no arguments', { hint: 'it explains your last command' });
  const last = ctx.store.history.recent(1, { machine: ctx.store.machineName(), kind: 'shell' })[0];
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
      ctx.io.err(`${result.reason}; /explain queued, the answer will appear in /show messages\n`);
      return 0;
    }
    if (!printer && (result.kind === 'answer' || result.explanation)) {
      ctx.io.out(`${visible(result.kind === 'answer' ? result.text : result.explanation)}\n`);
    }
    if (result.kind === 'command') ctx.io.out(`  $ ${result.command}\n`);
    if (result.kind === 'choice') {
      for (const [i, command] of result.commands.entries()) ctx.io.out(`  ${i + 1}) ${command}\n`);
    }
    if (result.kind === 'answer' && result.refused) ctx.io.err(`${result.refused}\n`);
    return 0;
  } catch (err) {
    return failed(err, ctx, printer);
  }
}

export const AI_COMMANDS: SlashCommand[] = [
  {
    name: 'ask',
    usage: '/ask WORDS',
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
    usage: '/show context',
    options: [{ flag: '--full', help: 'with the instructions sent for isaac WORDS' }],
    summary: 'print exactly the context sent to the AI',
    run: (args, ctx) => {
      const { options, rest } = takeOptions(args, { full: 'boolean' });
      if (rest.length > 0) throw new UsageError('usage: /show context [--full]');
      const assistant = assistantFor(ctx);
      ctx.io.out(`${visible(options.full ? assistant.systemPrompt() : assistant.buildContext())}\n`);
      return 0;
    },
  },
];
