import { UsageError } from '../../schemas/errors.ts';
import { takeOptions } from '../commands/args.ts';
import type { CommandContext } from '../commands/types.ts';
import { createInvite, revokeMachine } from './membership.ts';

/**
 * `isaac invite NAME [--hours N]` and `isaac revoke NAME`, for the `isaac <words>` dispatcher
 * (node/commands/isaac-words.ts). Both run against ISAAC_HOME of the store in `ctx`.
 */
export async function runInviteCommand(args: string[], ctx: CommandContext): Promise<number> {
  const { options, rest } = takeOptions(args, { hours: 'string' });
  const [name, extra] = rest;
  if (name === undefined || extra !== undefined) {
    throw new UsageError('usage: isaac invite NAME [--hours N]', { hint: 'NAME is the new machine’s name' });
  }
  const hours = options.hours === undefined ? 24 : Number(options.hours);
  if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 30) {
    throw new UsageError(`invalid --hours ${String(options.hours)}`, {
      hint: 'give a number of hours from 1 to 720',
    });
  }
  const nowMs = Date.now();
  const code = createInvite(ctx.store.home, name, { ttlMs: Math.round(hours * 3_600_000), nowMs });
  const until = new Date(nowMs + hours * 3_600_000).toISOString().replace('T', ' ').slice(0, 16);
  ctx.io.out(
    `invite for ${name}, valid until ${until} UTC. It carries the network key: pass it on privately.\n` +
      `On ${name} run:\n\n  isaac-node join ${code}\n\n`,
  );
  return 0;
}

export async function runRevokeCommand(args: string[], ctx: CommandContext): Promise<number> {
  const [name, extra] = args;
  if (name === undefined || extra !== undefined) throw new UsageError('usage: isaac revoke NAME');
  const sure =
    ctx.assumeYes ||
    (await ctx.io.confirm(`revoke ${name}? It loses its broker login at once and members stop obeying it`));
  if (!sure) {
    ctx.io.err('not revoked\n');
    return 1;
  }
  await revokeMachine(ctx.store.home, name);
  ctx.io.out(
    `revoked ${name}: its broker login is gone and its sessions are closed.\n` +
      `${name} still knows the network key; to shut it out of invites too, set up a new network (isaac-node init on a fresh broker) and re-join the members.\n`,
  );
  return 0;
}
