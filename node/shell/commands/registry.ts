import { UsageError } from '../../../schemas/errors.ts';
import { AI_COMMANDS } from './ai.ts';
import { AI_HISTORY_COMMANDS } from './ai-history.ts';
import { CORE_COMMANDS } from './core.ts';
import { renderCommandHelp, renderHelp } from './help-format.ts';
import { HISTORY_COMMANDS } from './history.ts';
import { ISAAC_COMMANDS } from './isaac-commands.ts';
import { NETWORK_SHOW_COMMANDS } from './network-show.ts';
import { BANG_COMMANDS } from './remote.ts';
import { SYNC_COMMANDS } from './sync-command.ts';
import type { CommandDef, CommandOption } from './types.ts';

/** How a command is typed: `/name` (this machine), `!name` (other machines), `isaac name`. */
export type CommandPrefix = '/' | '!' | 'isaac';

/** One entry of the registry: a module's definition, frozen, with its prefix. */
export interface RegisteredCommand extends Readonly<Omit<CommandDef, 'aliases' | 'options'>> {
  readonly kind: CommandPrefix;
  readonly aliases: readonly string[];
  readonly options: readonly CommandOption[];
}

function register(kind: CommandPrefix, defs: readonly CommandDef[]): RegisteredCommand[] {
  return defs.map((def) =>
    Object.freeze({
      ...def,
      kind,
      aliases: Object.freeze([...(def.aliases ?? [])]),
      options: Object.freeze((def.options ?? []).map((o) => Object.freeze({ ...o }))),
    }),
  );
}

const help: CommandDef = {
  name: 'help',
  usage: '/help [COMMAND]',
  summary: 'list every command and its options (or one command: /help search, /help !exec)',
  run(args, ctx) {
    const width = Math.max(40, Math.min(80, ctx.io.columns || 80));
    if (args.length === 0) {
      ctx.io.out(renderHelp(COMMANDS, width));
      return 0;
    }
    const found = findCommand(args.join(' '));
    if (!found) {
      throw new UsageError(`no command ${args.join(' ')}`, { hint: 'see /help for the list' });
    }
    ctx.io.out(renderCommandHelp(found, width));
    return 0;
  },
};

/**
 * Every `/`, `!` and `isaac` command: the one list that dispatch (router.ts, bang.ts,
 * isaac-words.ts), /help and Tab completion read. Frozen: nothing adds to it at run time.
 * To add a command, export its definition from your module and list it here.
 */
export const COMMANDS: readonly RegisteredCommand[] = Object.freeze([
  ...register('/', [
    help,
    ...CORE_COMMANDS,
    ...HISTORY_COMMANDS,
    ...SYNC_COMMANDS,
    ...NETWORK_SHOW_COMMANDS,
    ...AI_COMMANDS,
    ...AI_HISTORY_COMMANDS,
  ]),
  ...register('!', BANG_COMMANDS),
  ...register('isaac', ISAAC_COMMANDS),
]);

/** The names a command answers to (its name and aliases). */
export function namesOf(command: RegisteredCommand): string[] {
  return [command.name, ...command.aliases];
}

/** Finds the longest registered `/` name that prefixes the words (`show history 20` -> `show history`). */
export function findSlashCommand(
  words: readonly string[],
): { command: RegisteredCommand; args: string[] } | undefined {
  return findIn('/', words);
}

export function findBangCommand(verb: string): RegisteredCommand | undefined {
  return findIn('!', [verb])?.command;
}

export function findIsaacCommand(word: string): RegisteredCommand | undefined {
  return findIn('isaac', [word])?.command;
}

function findIn(
  kind: CommandPrefix,
  words: readonly string[],
): { command: RegisteredCommand; args: string[] } | undefined {
  for (let take = Math.min(2, words.length); take >= 1; take--) {
    const name = words.slice(0, take).join(' ');
    const command = COMMANDS.find((c) => c.kind === kind && namesOf(c).includes(name));
    if (command) return { command, args: words.slice(take) };
  }
  return undefined;
}

/** `/help TOPIC`: `search`, `/search`, `!exec`, `exec`, `isaac import`, `import`. */
function findCommand(topic: string): RegisteredCommand | undefined {
  const t = topic.trim();
  if (t.startsWith('!')) return findBangCommand(t.slice(1));
  if (t.startsWith('/')) return findSlashCommand(t.slice(1).split(/\s+/))?.command;
  if (/^isaac\s/.test(t)) return findIsaacCommand(t.slice(6).trim());
  const words = t.split(/\s+/);
  return findSlashCommand(words)?.command ?? findBangCommand(t) ?? findIsaacCommand(t);
}
