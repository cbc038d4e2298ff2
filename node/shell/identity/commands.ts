import { UsageError } from '../../../schemas/errors.ts';
import { takeOptions } from '../../core/args.ts';
import { loadIdentity } from '../../core/crypto/keys.ts';
import { requireAdminKey } from '../../core/identity/admins.ts';
import { promoteMachine, rotateNetworkKey } from '../../core/identity/rotation.ts';
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
    `invite for ${name}, valid until ${until} UTC. It joins one machine, once, as ${name}: pass it on privately.\n` +
      `On ${name} run:\n\n  isaac-node join ${code}\n\n`,
  );
  return 0;
}

/**
 * `isaac revoke NAME [--rotate]`: revokes, then rotates the network key (the revoked machine still
 * holds the old one) when --rotate or --yes is given or the user says yes.
 */
export async function runRevokeCommand(args: string[], ctx: CommandContext): Promise<number> {
  const { options, rest } = takeOptions(args, { rotate: 'boolean' });
  const [name, extra] = rest;
  if (name === undefined || extra !== undefined) throw new UsageError('usage: isaac revoke NAME [--rotate]');
  requireAdminKey(ctx.store.home, loadIdentity(ctx.store.home).network, 'revoke');
  const sure =
    ctx.assumeYes ||
    (await ctx.io.confirm(`revoke ${name}? It loses its broker login at once and members stop obeying it`));
  if (!sure) {
    ctx.io.err('not revoked\n');
    return 1;
  }
  await revokeMachine(ctx.store.home, name);
  ctx.io.out(`revoked ${name}: its broker login is gone and its sessions are closed.\n`);
  const rotate =
    options.rotate === true ||
    ctx.assumeYes ||
    (await ctx.io.confirm(`rotate the network key now? (needed if ${name} was an admin: it holds the key)`));
  if (!rotate) {
    ctx.io.out(`network key not rotated; if ${name} was an admin, run \`isaac revoke ${name} --rotate\`.\n`);
    return 0;
  }
  const result = await rotateNetworkKey(ctx.store.home);
  const who = result.notified.length > 0 ? result.notified.join(', ') : 'no other members';
  ctx.io.out(
    `rotated the network key: the broker accepts only the new one; any copy ${name} held is worthless now.\n` +
      `new key queued for ${who}; isaac-node delivers it (offline members get it when they come back).\n`,
  );
  return 0;
}

/** `isaac promote NAME`: makes a member an admin (it gets the network key through isaac-node). */
export function runPromoteCommand(args: string[], ctx: CommandContext): number {
  const [name, extra] = args;
  if (name === undefined || extra !== undefined)
    throw new UsageError('usage: isaac promote NAME', {
      hint: 'NAME becomes an admin: it can invite, revoke, rotate',
    });
  promoteMachine(ctx.store.home, name);
  ctx.io.out(
    `promoted ${name}: the network key is queued for it; isaac-node delivers it (also when ${name} is offline now).\n`,
  );
  return 0;
}
