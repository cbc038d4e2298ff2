import { EXIT } from '../../../schemas/cli.ts';
import { errorLine, UsageError } from '../../../schemas/errors.ts';
import { splitArgs } from '../../core/args.ts';
import { loginProblem } from '../../core/identity/login-status.ts';
import { NO_NETWORK_LINE, networkConfigured } from '../network-state.ts';
import { findBangCommand } from './registry.ts';
import { type BangOptions, bangExec, EXIT_NO_NETWORK, EXIT_USAGE } from './remote.ts';
import type { CommandContext } from './types.ts';

/**
 * Runs a `!` line through the registry (`!exec`, `!msg`, `!status`, `!query`), or `!NAME CMD`
 * as `!exec NAME CMD` when NAME is a machine of the network. Returns the local exit status.
 * Without a network it prints one line and changes nothing.
 */
export async function runBangCommand(
  line: string,
  ctx: CommandContext,
  options: BangOptions = {},
): Promise<number> {
  if (!networkConfigured(ctx.store.home)) {
    ctx.io.err(`${NO_NETWORK_LINE}\n`);
    return EXIT_NO_NETWORK;
  }
  const text = line.trim().replace(/^!/, '');
  const verb = text.split(/\s/, 1)[0] ?? '';
  const rest = text.slice(verb.length).trimStart();
  // every `!` command says when the broker does not let this machine in, and what to do
  const login = loginProblem(ctx.store);
  if (login) {
    const sends = verb !== 'status' && verb !== 'query' && verb !== 'help';
    if (login.state === 'revoked' && sends) {
      ctx.io.err(`${login.line}; nothing was sent\n`);
      return EXIT.refused;
    }
    ctx.io.err(`${login.line}\n`);
  }
  try {
    const command = findBangCommand(verb);
    if (command) {
      return await command.run(wordsOf(rest), ctx, { text: rest, ...options });
    }
    return await shorthandExec(verb, rest, ctx, options);
  } catch (err) {
    ctx.io.err(`${errorLine(err)}\n`);
    return EXIT_USAGE;
  }
}

/** `!beta uptime` is `!exec beta uptime` when beta is a member; anything else says what is. */
async function shorthandExec(
  name: string,
  cmd: string,
  ctx: CommandContext,
  options: BangOptions,
): Promise<number> {
  const machines = ctx.store.machines.members().map((m) => m.name);
  if (name === '') {
    throw new UsageError('! needs a command', { hint: 'e.g. !exec MACHINE CMD, or see /help' });
  }
  if (!machines.includes(name)) {
    const known = machines.length > 0 ? `machines: ${machines.join(', ')}` : 'no machines known yet';
    throw new UsageError(`no machine named ${name}; ${known}`, {
      hint: 'the ! commands are !exec, !msg, !status and !query (see /help)',
    });
  }
  if (cmd === '') throw new UsageError(`!${name} needs a command`, { hint: `e.g. !${name} uptime` });
  return await bangExec(`${name} ${cmd}`, ctx, options);
}

/** Arguments for the commands that take words; !exec and !msg read the text as typed instead. */
function wordsOf(text: string): string[] {
  try {
    return splitArgs(text);
  } catch {
    return text.split(/\s+/).filter(Boolean); // `!msg beta it's done` is fine as text
  }
}
