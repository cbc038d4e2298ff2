import { existsSync, readdirSync } from 'node:fs';
import { paths } from '../paths.ts';

/**
 * Whether this machine belongs to a network: `isaac-node init` or `join` left its keys in
 * ISAAC_HOME/keys. Everything under `!` needs that; without it nothing is sent or queued.
 */
export function networkConfigured(home: string): boolean {
  const dir = paths.keys(home);
  if (!existsSync(dir)) return false;
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

export const NO_NETWORK_LINE =
  'no network configured: run `isaac-node init` (first machine) or `isaac-node join CODE`';
