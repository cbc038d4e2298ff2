import { isaacVersion } from '../../schemas/cli.ts';
import { rosterSupersedes, verifyRosterEntry } from '../../schemas/roster.ts';
import { loadIdentity } from '../core/crypto/keys.ts';
import { mqttConnectOptions } from '../core/crypto/mqtt-options.ts';
import { loadBrokerPassword, requireNetworkSettings } from '../core/identity/settings.ts';
import { rowAsEntry } from '../core/identity/trust.ts';
import { ensureHome } from '../core/paths.ts';
import { openStore } from '../core/store/store.ts';
import { type ComposedDaemon, composeDaemon } from './compose.ts';
import { daemonLogger, type Logger, resolveLogLevel } from './logger.ts';

export type RunningNode = ComposedDaemon & { logger: Logger };

/**
 * `isaac-node start`: loads keys (refusing group/world-readable ones) and network settings,
 * serves the local socket, and runs the MQTT session until stopped. `logLevel` is the
 * `--log-level` flag (config `node.log_level` otherwise).
 */
export async function startNode(home: string, options: { logLevel?: unknown } = {}): Promise<RunningNode> {
  ensureHome(home);
  const keys = loadIdentity(home);
  const store = openStore(home);
  try {
    const logger = daemonLogger(resolveLogLevel(options.logLevel, store.config.get('node.log_level')));
    const settings = requireNetworkSettings(store);
    const me = settings.name;
    const own = verifyRosterEntry(settings.rosterEntry, settings.networkPk, me);
    if (rosterSupersedes(rowAsEntry(store.machines.get(me)), own)) store.machines.applyRoster(own);
    const staticPassword = settings.brokerLogin === 'static-password' ? loadBrokerPassword(home) : undefined;
    const node = await composeDaemon({
      store,
      identity: { me, signSecretKey: keys.sign.secretKey, boxKeyPair: keys.box },
      urls: settings.brokers,
      version: isaacVersion(),
      logger,
      connectOptions: (url) =>
        mqttConnectOptions({
          url,
          name: me,
          secret: keys.loginSecret,
          fingerprint: settings.fingerprint,
          ...(settings.certPem ? { certPem: settings.certPem } : {}),
          insecure: settings.insecure,
          ...(staticPassword !== undefined ? { staticPassword } : {}),
        }),
    });
    return {
      ...node,
      logger,
      async stop() {
        await node.stop();
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
