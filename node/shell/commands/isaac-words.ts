import { UsageError } from '../../../schemas/errors.ts';
import { splitArgs, takeOptions } from '../../core/args.ts';
import { formatTierReport } from '../../core/tiers/index.ts';
import { runImportCommand } from '../history-import/index.ts';
import { runInviteCommand, runRevokeCommand } from '../identity/commands.ts';
import { classifyWithSettings } from '../tier-settings.ts';
import { runNaturalLanguage } from './ai.ts';
import type { CommandContext } from './types.ts';

/**
 * `isaac <words>`: a few subcommands (tier, import, invite, revoke), anything else is a request
 * in natural language for the AI. Shared by the command line (`isaac tier ...` from bash) and
 * by the shell's router (`isaac tier ...` typed at Isaac's prompt).
 */
export function runIsaacWords(text: string, ctx: CommandContext): Promise<number> {
  return runIsaacArgs(splitArgs(text), ctx, text);
}

/** `words` as the shell split them; `text` the original wording for the AI. */
export async function runIsaacArgs(
  words: string[],
  ctx: CommandContext,
  text = words.join(' '),
): Promise<number> {
  const [first, ...rest] = words;
  switch (first) {
    case undefined:
      throw new UsageError('say what you want after `isaac`', { hint: 'e.g. isaac find large files here' });
    case 'tier':
      return runTier(rest, ctx);
    case 'import':
      return await runImportCommand(rest, ctx);
    case 'invite':
      return await runInviteCommand(rest, ctx);
    case 'revoke':
      return await runRevokeCommand(rest, ctx);
    default:
      return await runNaturalLanguage(text, ctx);
  }
}

function runTier(args: string[], ctx: CommandContext): number {
  const { options, rest } = takeOptions(args, { json: 'boolean', explain: 'boolean' });
  const line = rest.join(' ');
  if (line.trim() === '') throw new UsageError('usage: isaac tier [--json] [--explain] "LINE"');
  const verdict = classifyWithSettings(line, ctx.store);
  ctx.io.out(`${formatTierReport(verdict, options.json === true, options.explain === true)}\n`);
  return 0;
}
