import { CORE_COMMANDS } from './core.ts';
import { NETWORK_SHOW_COMMANDS } from './network-show.ts';
import { SLASH_COMMANDS } from './registry.ts';

let registered = false;

/** Fills the registry once with every module's / commands. */
export function registerAllCommands(): void {
  if (registered) return;
  registered = true;
  SLASH_COMMANDS.push(...CORE_COMMANDS, ...NETWORK_SHOW_COMMANDS);
}
