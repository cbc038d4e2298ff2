/**
 * What kind of line a history record holds, for `/search --type`:
 * - `shell`  a command run in the user's shell (typed, scripted or imported)
 * - `slash`  one of Isaac's own commands: `/show history`, `isaac import ...`
 * - `bang`   a `!` command sent to other machines: `!exec beta uptime`
 * - `ai`     a request to the AI: `isaac find big files`, `/ask`, `/explain`
 * - `remote` a command another machine had run here (`!exec` from a peer)
 */
export const COMMAND_KINDS = ['shell', 'slash', 'bang', 'ai', 'remote'] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

export function isCommandKind(value: string): value is CommandKind {
  return (COMMAND_KINDS as readonly string[]).includes(value);
}

/** `isaac <word>` runs Isaac's own command for these words and asks the AI for anything else. */
export const ISAAC_SUBCOMMANDS: readonly string[] = ['tier', 'import', 'invite', 'revoke', 'promote'];

/** `/` commands that are requests to the AI. */
const AI_SLASH = /^\/(ask|explain)(\s|$)/;

/**
 * The kind of a record from its text and source, the same on every machine: a record's kind
 * does not travel in sync batches, each machine derives it (and migration 5 did for old rows).
 * It follows the shell's router: `/...` and `!...` are Isaac's, whatever comes after.
 */
export function commandKind(command: string, source = 'shell'): CommandKind {
  if (source.startsWith('remote:')) return 'remote';
  if (source === 'import') return 'shell';
  const line = command.trimStart();
  if (line.startsWith('/')) return AI_SLASH.test(line) ? 'ai' : 'slash';
  if (line.startsWith('!')) return 'bang';
  if (/^isaac(\s|$)/.test(line)) {
    const word = line.split(/\s+/)[1];
    return word !== undefined && ISAAC_SUBCOMMANDS.includes(word) ? 'slash' : 'ai';
  }
  return 'shell';
}
