import { EXIT, exitStatusOf } from '../../schemas/cli.ts';
import { errorLine, IsaacError, UsageError } from '../../schemas/errors.ts';
import { splitArgs } from '../core/args.ts';
import type { CommandContext } from './commands/types.ts';
import { executeShellLine } from './executor.ts';
import { commandContext, type ShellHost } from './host.ts';
import { recordIsaacLine } from './record-line.ts';

/** Exit status for a line Isaac could not understand (unknown / command, bad arguments). */
export const EXIT_USAGE = EXIT.usage;

/**
 * The prefix router (DESIGN.md "The shell"): `/` local commands, `!` other machines, `isaac <words>`
 * subcommands or natural language, anything else a shell command behind tier validation.
 * Every path returns the line's exit status; errors become one line on stderr, never a crash.
 */
export async function routeLine(rawLine: string, host: ShellHost): Promise<number> {
  const record = !/^\s/.test(rawLine);
  const line = rawLine.trim();
  if (line === '' || line.startsWith('#')) return 0;
  const started = Date.now();
  const status = await dispatchLine(line, rawLine, record, host);
  if (record) await recordIsaacLine(host, line, status, started); // shell lines: the executor records them
  return status;
}

// The `/`, `!` and `isaac` commands (the registry, the network, the AI) load on first use, so a
// plain shell line (`isaac -c true`) never pays for them.

async function dispatchLine(
  line: string,
  rawLine: string,
  record: boolean,
  host: ShellHost,
): Promise<number> {
  const ctx = commandContext(host, (next) => routeLine(next, host));
  try {
    if (line.startsWith('/')) return await runSlash(line.slice(1), ctx, host);
    if (line.startsWith('!')) {
      const { runBangCommand } = await import('./commands/bang.ts');
      return await runBangCommand(line, ctx, bangOptions(host));
    }
    if (/^isaac(\s|$)/.test(line)) {
      const { runIsaacWords } = await import('./commands/isaac-words.ts');
      return await runIsaacWords(line.slice(5).trim(), ctx);
    }
    if (/^(exit|logout)(\s+\d+)?$/.test(line)) {
      host.requestExit(Number(line.split(/\s+/)[1] ?? 0));
      return 0;
    }
    return await executeShellLine(record ? line : rawLine.replace(/^\s+/, ''), host, record);
  } catch (err) {
    host.io.err(`isaac: ${errorLine(err)}\n`);
    if (!(err instanceof IsaacError)) host.io.err('isaac: (this is a bug; the line was not completed)\n');
    return exitStatusOf(err);
  }
}

function bangOptions(host: ShellHost): { signal?: AbortSignal } {
  const signal = host.signal?.();
  return signal ? { signal } : {};
}

async function runSlash(text: string, ctx: CommandContext, host: ShellHost): Promise<number> {
  const words = splitArgs(text);
  if (words[0] === 'exit' || words[0] === 'quit') {
    host.requestExit(0);
    return 0;
  }
  const { findSlashCommand } = await import('./commands/registry.ts');
  const found = findSlashCommand(words);
  if (!found) {
    throw new UsageError(`unknown command /${words.slice(0, 2).join(' ')}`, { hint: 'see /help' });
  }
  return await found.command.run(found.args, ctx, { text: found.args.join(' ') });
}
