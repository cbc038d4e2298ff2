import { NO_NETWORK_LINE, networkConfigured } from '../bus/network-state.ts';
import type { CommandContext } from './types.ts';

/** Exit status of a `!` command that could not run because no network is configured. */
export const EXIT_NO_NETWORK = 2;

/**
 * Runs a `!` line (`!exec`, `!msg`, `!status`). Returns the local exit status.
 * Without a network it prints one line and changes nothing.
 */
export async function runBangCommand(line: string, ctx: CommandContext): Promise<number> {
  if (!networkConfigured(ctx.store.home)) {
    ctx.io.err(`${NO_NETWORK_LINE}\n`);
    return EXIT_NO_NETWORK;
  }
  void line;
  ctx.io.err('remote commands are not built yet\n');
  return EXIT_NO_NETWORK;
}
