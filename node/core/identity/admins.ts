import { ConfigError } from '../../../schemas/errors.ts';
import type { SignKeyPair } from '../crypto/keys.ts';
import { openStore } from '../store/store.ts';

/**
 * Only admin machines hold the network key (DESIGN.md, "Identity, trust and the broker"): the
 * first machine and those promoted with `isaac promote NAME`. Elsewhere, invite, revoke, rotate
 * and promote say which machines can.
 */
export function adminNames(home: string): string[] {
  const store = openStore(home);
  try {
    return store.machines.admins();
  } finally {
    store.close();
  }
}

/** The network key of this machine, or a ConfigError naming the admins that can `what`. */
export function requireAdminKey(home: string, network: SignKeyPair | undefined, what: string): SignKeyPair {
  if (network) return network;
  const admins = adminNames(home);
  throw new ConfigError(`only admin machines can ${what}; this machine is a member`, {
    hint:
      admins.length > 0
        ? `run it on ${admins.join(' or ')} (or have an admin run \`isaac promote NAME\` for this machine)`
        : 'run it on the machine that created the network (isaac-node init), or one it promoted',
  });
}
