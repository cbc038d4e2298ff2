import { AI_COMMANDS } from './ai.ts';
import { HISTORY_COMMANDS } from './history.ts';
import { SYNC_COMMANDS } from './sync-command.ts';
import type { SlashCommand } from './types.ts';

/**
 * Every `/` command, collected from the modules that implement them.
 * To add commands: export a `SlashCommand[]` from your module and spread it in here.
 */
export const SLASH_COMMANDS: SlashCommand[] = [...AI_COMMANDS, ...HISTORY_COMMANDS, ...SYNC_COMMANDS];

/** Finds the longest command name that prefixes the words (`show history 20` -> `show history`). */
export function findSlashCommand(words: string[]): { command: SlashCommand; args: string[] } | undefined {
  for (let take = Math.min(2, words.length); take >= 1; take--) {
    const name = words.slice(0, take).join(' ');
    const command = SLASH_COMMANDS.find((c) => c.name === name);
    if (command) return { command, args: words.slice(take) };
  }
  return undefined;
}
