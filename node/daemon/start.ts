import { isaacVersion } from '../../schemas/cli.ts';
import { type RosterEntry, rosterSupersedes, verifyRosterEntry } from '../../schemas/roster.ts';
import { topics } from '../../schemas/topics.ts';
import { loadIdentity } from '../core/crypto/keys.ts';
import { mqttConnectOptions } from '../core/crypto/mqtt-options.ts';
import { ownRosterEntry, rowAsEntry, verifyRosterEntryTrusted } from '../core/identity/rotation.ts';
import { requireNetworkSettings } from '../core/identity/settings.ts';
import { ensureHome, paths } from '../core/paths.ts';
import { openStore, type Store } from '../core/store/store.ts';
import { classify, tierOverridesFromConfig } from '../core/tiers/index.ts';
import { EnvelopeCodec } from './bus/codec.ts';
import { NodeDaemon } from './daemon.ts';
import { discoveryMessages } from './ha/discovery.ts';
import { networkKeyExtension } from './identity/rotation-daemon.ts';
import { type IpcServer, serveIpc } from './ipc/server.ts';
import { syncOps } from './ipc/sync-op.ts';
import { HistorySync } from './sync/engine.ts';
import { historyTransport } from './sync/wiring.ts';

export interface RunningNode {
  daemon: NodeDaemon;
  store: Store;
  ipc: IpcServer;
  stop(): Promise<void>;
}

/**
 * `isaac-node start`: loads keys (refusing group/world-readable ones) and network settings,
 * serves the local socket, and runs the MQTT session until stopped.
 */
export async function startNode(home: string, log: (line: string) => void): Promise<RunningNode> {
  ensureHome(home);
  const keys = loadIdentity(home);
  const store = openStore(home);
  try {
    const settings = requireNetworkSettings(store);
    const me = settings.name;
    const own = verifyRosterEntry(settings.rosterEntry, settings.networkPk, me);
    if (rosterSupersedes(rowAsEntry(store.machines.get(me)), own)) store.machines.applyRoster(own);
    const version = isaacVersion();
    const codec = new EnvelopeCodec(
      { me, signSecretKey: keys.sign.secretKey, boxKeyPair: keys.box },
      store.machines,
    );
    const daemon = new NodeDaemon({
      store,
      codec,
      urls: settings.brokers,
      version,
      log,
      connectOptions: (url) =>
        mqttConnectOptions({
          url,
          name: me,
          secret: keys.loginSecret,
          fingerprint: settings.fingerprint,
          ...(settings.certPem ? { certPem: settings.certPem } : {}),
          insecure: settings.insecure,
        }),
      classify: (line) =>
        classify(line, {
          overrides: tierOverridesFromConfig(store.config.all()),
          defaultTier: store.config.tier('tier.default'),
        }),
      verifyRoster: (name, payload) => {
        let entry: RosterEntry;
        try {
          // the current network key, or an earlier one for entries already trusted (rotation)
          entry = verifyRosterEntryTrusted(store, payload, name);
        } catch {
          return undefined;
        }
        const current = rowAsEntry(store.machines.get(name));
        const chosen = rosterSupersedes(current, entry) ? entry : current!;
        return {
          signPk: chosen.signPk,
          boxPk: chosen.boxPk,
          added: chosen.added,
          revoked: chosen.revoked ?? null,
        };
      },
      rosterPayload: () => ownRosterEntry(store),
      discovery: () => (store.config.bool('ha.discovery') ? discoveryMessages(me, version) : []),
    });
    const sync = new HistorySync(store, historyTransport(daemon, store), { log });
    daemon.use({
      types: ['history-batch', 'sync-request'],
      apply: (env) => sync.apply(env),
      onConnected: () => sync.requestCatchUp(),
      onMemberAdded: (name) => sync.requestCatchUp([name]),
      start: () => sync.start(),
      stop: () => sync.stop(),
    });
    daemon.use(
      networkKeyExtension({
        store,
        log,
        refuse: (reason, detail) => daemon.refusals.refuse(reason, detail),
        publishOwnEntry: (entry) => daemon.session.publishRetained(topics.roster(me), entry),
        drainOutbox: () => daemon.session.drainOutbox(),
      }),
    );
    const ipc = await serveIpc(daemon, paths.nodeSocket(home), log, syncOps(daemon, store, sync));
    daemon.start();
    return {
      daemon,
      store,
      ipc,
      async stop() {
        await daemon.stop();
        await ipc.close();
        store.close();
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
