import { hasKeys } from '../core/crypto/key-files.ts';

/**
 * Whether this machine belongs to a network: `isaac-node init` or `join` installed its keys in
 * ISAAC_HOME/keys. Everything under `!` needs that; without it nothing is sent or queued.
 */
export function networkConfigured(home: string): boolean {
  return hasKeys(home);
}

export const NO_NETWORK_LINE =
  'no network configured: run `isaac-node init` (first machine) or `isaac-node join CODE`';
