import { UsageError } from '../../../schemas/errors.ts';
import { takeOptions } from '../../core/args.ts';
import { formatTierReport } from '../../core/tiers/index.ts';
import { IMPORT_COMMAND } from '../history-import/cli.ts';
import { classifyWithSettings } from '../tier-settings.ts';
import type { CommandContext, CommandDef } from './types.ts';

// Network administration (keys, the broker, CBOR, TLS) loads only when one of these runs.
const identity = () => import('../identity/commands.ts');

function runTier(args: string[], ctx: CommandContext): number {
  const { options, rest } = takeOptions(args, { json: 'boolean', explain: 'boolean' });
  const line = rest.join(' ');
  if (line.trim() === '') throw new UsageError('usage: isaac tier [--json] [--explain] "LINE"');
  const verdict = classifyWithSettings(line, ctx.store);
  ctx.io.out(`${formatTierReport(verdict, options.json === true, options.explain === true)}\n`);
  return 0;
}

/**
 * `isaac <word> ...` commands, typed at Isaac's prompt or from bash (`isaac import zsh`).
 * Any other words are a request to the AI (node/shell/commands/isaac-words.ts).
 */
export const ISAAC_COMMANDS: CommandDef[] = [
  {
    name: 'tier',
    usage: 'isaac tier LINE',
    options: [
      { flag: '--json', help: 'the tier and reasons as JSON' },
      { flag: '--explain', help: 'also the rule that decided' },
    ],
    summary: 'show the safety tier of LINE (and why) without running it',
    run: runTier,
  },
  IMPORT_COMMAND,
  {
    name: 'invite',
    usage: 'isaac invite NAME',
    options: [{ flag: '--hours N', help: 'how long the invite works (default 24, at most 720)' }],
    summary: 'print a single-use code that lets machine NAME join this network (admins only)',
    run: async (args, ctx) => (await identity()).runInviteCommand(args, ctx),
  },
  {
    name: 'revoke',
    usage: 'isaac revoke NAME',
    options: [{ flag: '--rotate', help: 'also rotate the network key without asking' }],
    summary: 'remove machine NAME from the network: its broker login goes, members stop obeying it',
    run: async (args, ctx) => (await identity()).runRevokeCommand(args, ctx),
  },
  {
    name: 'promote',
    usage: 'isaac promote NAME',
    options: [],
    summary: 'make machine NAME an admin too: it receives the network key (admins only)',
    run: async (args, ctx) => (await identity()).runPromoteCommand(args, ctx),
  },
];
