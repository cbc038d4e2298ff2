import { UsageError } from '../../../schemas/errors.ts';
import { splitArgs } from '../../core/args.ts';
import { runNaturalLanguage } from './ai.ts';
import { findIsaacCommand } from './registry.ts';
import type { CommandContext } from './types.ts';

/**
 * `isaac <words>`: a registered subcommand (tier, import, invite, revoke, promote), anything else is a
 * request in natural language for the AI. Shared by the command line (`isaac tier ...` from
 * bash) and by the shell's router (`isaac tier ...` typed at Isaac's prompt).
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
  if (first === undefined) {
    throw new UsageError('say what you want after `isaac`', { hint: 'e.g. isaac find large files here' });
  }
  const command = findIsaacCommand(first);
  if (command) return await command.run(rest, ctx, { text: text.trim().slice(first.length).trimStart() });
  return await runNaturalLanguage(text, ctx);
}
