import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from '../paths.ts';

/**
 * The names of this machine's key files in ISAAC_HOME/keys, and whether a key set is there. Kept
 * apart from keys.ts (tweetnacl, node:crypto) so asking "is there a network?" loads neither.
 */
export const KEY_FILES = {
  sign: 'sign.key',
  box: 'box.key',
  login: 'login.secret',
  network: 'network.key',
} as const;

/** Whether ISAAC_HOME already holds a key set. */
export function hasKeys(home: string): boolean {
  return existsSync(join(paths.keys(home), KEY_FILES.sign));
}
