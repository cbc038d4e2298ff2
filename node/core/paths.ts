import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** ISAAC_HOME (default ~/.isaac): the database, keys and the node's socket live here. */
export function isaacHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.ISAAC_HOME;
  return configured && configured.length > 0 ? configured : join(homedir(), '.isaac');
}

/** Creates ISAAC_HOME owner-only (0700) if missing. */
export function ensureHome(home: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  try {
    chmodSync(home, 0o700);
  } catch {
    // a home we cannot chmod (not ours) is still usable; key files carry their own 0600 check
  }
  return home;
}

export const paths = {
  database: (home: string) => join(home, 'isaac.db'),
  nodeSocket: (home: string) => join(home, 'node.sock'),
  keys: (home: string) => join(home, 'keys'),
};
