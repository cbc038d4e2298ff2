import { errorLine } from '../../../schemas/errors.ts';
import { acceptNetworkKey, type NetworkKeyOutcome } from '../../core/identity/handover.ts';
import { loadNetworkSettings } from '../../core/identity/settings.ts';
import type { Store } from '../../core/store/store.ts';
import type { Opened } from '../bus/envelope-port.ts';
import type { Extension } from '../extensions.ts';
import type { Logger } from '../logger.ts';

/**
 * The network-key rotation in isaac-node (an extension, plus what handlers/network-key.ts calls):
 * - a `network-key` envelope is installed inside the daemon's seen-id transaction, refusals are
 *   counted with the daemon's other refusals; after it commits, the own roster entry (re-signed with
 *   the new key) is re-published at once;
 * - a rotation made by `isaac revoke --rotate` (or a promotion by `isaac promote`) in a shell
 *   process writes the store, not the daemon: a light watch notices the re-signed own entry or the
 *   queued network key, re-publishes it and sends the queued envelopes without waiting for the
 *   next reconnect.
 */
export interface NetworkKeyHooks {
  store: Store;
  log: Logger;
  refuse(reason: string, detail: string): void;
  /** publish this machine's roster entry retained (a no-op while disconnected) */
  publishOwnEntry(entry: Uint8Array): void;
  /** send every outbox row not in flight (a no-op while disconnected) */
  drainOutbox(): void;
  /** how often to look for a rotation made by another process (default 5 s) */
  watchMs?: number;
}

export interface NetworkKeyRotation extends Extension {
  /** inside the seen-id transaction */
  apply(env: Opened<'network-key'>): void;
  /** after the commit */
  afterApply(env: Opened<'network-key'>): void;
}

export function networkKeyRotation(hooks: NetworkKeyHooks): NetworkKeyRotation {
  const outcomes = new Map<string, NetworkKeyOutcome>();
  let published = ownEntryHex(hooks.store);
  let timer: NodeJS.Timeout | undefined;

  const republishIfChanged = (force: boolean) => {
    const settings = loadNetworkSettings(hooks.store);
    if (!settings) return;
    const now = Buffer.from(settings.rosterEntry).toString('hex');
    if (!force && now === published) return;
    published = now;
    hooks.publishOwnEntry(settings.rosterEntry);
    hooks.drainOutbox();
  };

  return {
    name: 'rotation',
    apply(env) {
      const outcome = acceptNetworkKey(hooks.store, env);
      outcomes.set(Buffer.from(env.id).toString('hex'), outcome);
    },
    afterApply(env) {
      const key = Buffer.from(env.id).toString('hex');
      const outcome = outcomes.get(key);
      outcomes.delete(key);
      if (!outcome) return;
      if (outcome.installed) {
        hooks.log.info(
          { from: env.from },
          outcome.promoted
            ? `promoted to admin by ${env.from}: this machine now holds the network key`
            : `installed the network key rotated by ${env.from}`,
        );
        republishIfChanged(true);
      } else if (outcome.refused) {
        hooks.refuse(outcome.reason, `network key from ${env.from}: ${outcome.detail}`);
      }
    },
    onConnected() {
      published = ownEntryHex(hooks.store);
    },
    start() {
      timer = setInterval(() => {
        try {
          republishIfChanged(false);
          // `isaac promote` in a shell queues the network key for the promoted machine in the
          // store only: send it now rather than at the next reconnect
          if (queuedNetworkKey(hooks.store)) hooks.drainOutbox();
        } catch (err) {
          hooks.log.warn(`network key watch: ${errorLine(err)}`);
        }
      }, hooks.watchMs ?? 5000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

function queuedNetworkKey(store: Store): boolean {
  return store.db.prepare("SELECT 1 FROM outbox WHERE kind = 'network-key' LIMIT 1").get() !== undefined;
}

function ownEntryHex(store: Store): string {
  const settings = loadNetworkSettings(store);
  return settings ? Buffer.from(settings.rosterEntry).toString('hex') : '';
}
