import type { IClientOptions } from 'mqtt';
import { topics } from '../../schemas/topics.ts';
import { loginProblem, refusalState } from '../core/identity/login-status.ts';
import { loadNetworkSettings, NETWORK_KEYS } from '../core/identity/settings.ts';
import { acceptRosterEntry } from '../core/identity/trust.ts';
import { paths } from '../core/paths.ts';
import type { Store } from '../core/store/store.ts';
import { classify, tierOverridesFromConfig } from '../core/tiers/index.ts';
import { type CodecKeys, EnvelopeCodec } from './bus/codec.ts';
import { envelopeSender } from './bus/sender.ts';
import { BusSession } from './bus/session.ts';
import { NodeDaemon } from './daemon.ts';
import { ExecJobs, type LoginEnv } from './exec-jobs.ts';
import { Extensions } from './extensions.ts';
import { homeAssistantExtension } from './ha/extension.ts';
import { handlerTable } from './handlers/table.ts';
import { networkKeyRotation } from './identity/rotation-daemon.ts';
import { Intake, type RefusedRosterEntry, type VerifiedRosterEntry } from './intake.ts';
import { type IpcServer, serveIpc } from './ipc/server.ts';
import { syncOps } from './ipc/sync-op.ts';
import { componentLogger, type Logger } from './logger.ts';
import { OutgoingExecs } from './outgoing-execs.ts';
import { dropStaleEphemeral } from './pending-adoption.ts';
import { Pings } from './pings.ts';
import { RefusalCounter } from './refusals.ts';
import { RemoteConfirm } from './remote/confirm.ts';
import { LoginEnvironment } from './remote/login-env.ts';
import type { Classifier } from './remote/policy.ts';
import { ownStatusPayload } from './status-payload.ts';
import { HistorySync, type SyncOptions } from './sync/engine.ts';

const CANCEL_TTL_MS = 60_000;

export interface ComposeOptions {
  store: Store;
  /** this machine's name and keys */
  identity: CodecKeys;
  urls: readonly string[];
  /** The MQTT login for one connect attempt to `url` (a fresh token each time, the TLS pin). */
  connectOptions(url: string): IClientOptions;
  version: string;
  logger: Logger;
  /** Serve the local shells on $ISAAC_HOME/node.sock (default true). */
  serveSocket?: boolean;
  clock?: () => number;
  /** The login environment remote commands run with (default: read from the user's profile). */
  loginEnv?: LoginEnv;
  /**
   * The remote policy's classifier (default: the tiers in strict mode with this machine's rules);
   * test/bench/trust.bench.ts compares it with the plain one.
   */
  classify?: Classifier;
  /** History sync tuning (tests use smaller batches and faster polls). */
  sync?: Omit<SyncOptions, 'log'>;
  /** Reconnect backoff (tests shorten it; default 250 ms .. 30 s). */
  backoff?: { minMs: number; maxMs: number };
}

export interface ComposedDaemon {
  readonly me: string;
  readonly store: Store;
  readonly daemon: NodeDaemon;
  readonly session: BusSession;
  readonly sync: HistorySync;
  /** the extension controller (sync, rotation, Home Assistant): connects and new members go through it */
  readonly extensions: Extensions;
  readonly ipc: IpcServer | undefined;
  /** Stops the session and the socket; the store stays open (its owner closes it). */
  stop(): Promise<void>;
}

/**
 * Builds and starts isaac-node: the one place its parts are wired, used by `isaac-node start`
 * (start.ts) and by every test that needs a node. Session -> intake -> one handler per message
 * type; extensions (history sync, network-key rotation, Home Assistant) in one controller.
 */
export async function composeDaemon(o: ComposeOptions): Promise<ComposedDaemon> {
  const { store, logger } = o;
  const me = o.identity.me;
  const clock = o.clock ?? Date.now;
  const codec = new EnvelopeCodec(o.identity, store.machines);
  const refusals = new RefusalCounter(componentLogger(logger, 'intake'));
  const extensions = new Extensions(logger);
  let intake: Intake | undefined;
  const session: BusSession = new BusSession({
    name: me,
    urls: o.urls,
    connectOptions: o.connectOptions,
    outbox: store.outbox,
    statusPayload: () => ownStatusPayload(store, me, o.version),
    onConnected: (s) => {
      store.brokerLogin.accepted();
      dropStaleEphemeral(store, clock());
      const roster = loadNetworkSettings(store)?.rosterEntry;
      if (roster) s.publishRetained(topics.roster(me), roster);
      extensions.connected();
    },
    onLoginRefused: (code, url) => recordRefusal(store, code, url, componentLogger(logger, 'bus')),
    onMessage: (topic, payload) => intake?.receive(topic, payload),
    log: componentLogger(logger, 'bus'),
    ...(o.backoff ? { minBackoffMs: o.backoff.minMs, maxBackoffMs: o.backoff.maxMs } : {}),
  });
  const enqueue = envelopeSender(codec, store.outbox, () => session);
  const members = () => store.machines.members().map((m) => m.name);
  const confirm = new RemoteConfirm(me);
  const jobs = new ExecJobs({
    store,
    classify:
      o.classify ??
      ((line) =>
        classify(line, {
          strict: true,
          overrides: tierOverridesFromConfig(store.config.all()),
          defaultTier: store.config.tier('tier.default'),
        })),
    enqueue,
    confirm,
    loginEnv: o.loginEnv ?? new LoginEnvironment(),
    clock,
    log: componentLogger(logger, 'exec'),
  });
  const isOnline = (target: string) =>
    session.state.connected && store.machines.get(target)?.status === 'online';
  const outgoing = new OutgoingExecs({
    enqueueExec: (target, body, exp) => enqueue('exec', target, body, exp),
    enqueueCancel: (target, corr, exp) =>
      void enqueue('exec-cancel', target, {}, Math.max(exp, clock() + CANCEL_TTL_MS), corr),
    isOnline,
    queuedWhy: (target): ReturnType<NodeDaemon['queuedWhy']> => daemon.queuedWhy(target),
    members,
    defaultTimeoutMs: () => store.config.number('remote.timeout') * 1000,
  });
  const pings = new Pings();
  const retained = new Map<string, Record<string, unknown>>();
  const daemon: NodeDaemon = new NodeDaemon({
    me,
    store,
    urls: o.urls,
    version: o.version,
    session,
    enqueue,
    refusals,
    jobs,
    outgoing,
    pings,
    confirm,
    extensions,
    retained,
    clock,
    log: componentLogger(logger, 'adoption'),
  });

  const syncLog = componentLogger(logger, 'sync');
  const sync = new HistorySync(
    store,
    { me, enqueue, peers: () => members().filter((name) => name !== me) },
    { ...o.sync, log: syncLog, refuse: (reason, detail) => refusals.refuse(reason, detail) },
  );
  extensions.add({
    name: 'sync',
    start: () => sync.start(),
    stop: () => sync.stop(),
    onConnected: () => sync.requestCatchUp(),
    onMemberAdded: (name) => {
      if (name !== me) sync.requestCatchUp([name]);
    },
  });
  const rotation = networkKeyRotation({
    store,
    log: componentLogger(logger, 'rotation'),
    refuse: (reason, detail) => refusals.refuse(reason, detail),
    publishOwnEntry: (entry) => daemon.publishRosterEntry(entry),
    drainOutbox: () => session.drainOutbox(),
  });
  extensions.add(rotation);
  const ha = homeAssistantExtension({
    store,
    me,
    version: o.version,
    publishRetained: (topic, payload, done) => session.publishRetained(topic, payload, done),
    log: componentLogger(logger, 'ha'),
  });
  extensions.add(ha);

  intake = new Intake({
    me,
    store,
    codec,
    handlers: handlerTable({
      store,
      enqueue,
      clock,
      notify: (n) => daemon.notify(n),
      jobs,
      outgoing,
      pings,
      sync,
      rotation,
    }),
    refusals,
    clock,
    log: componentLogger(logger, 'intake'),
    verifyRoster: (name, payload) => verifyRoster(store, name, payload),
    memberAdded: (name) => extensions.memberAdded(name),
    homeAssistantOnline: () => ha.homeAssistantOnline(),
    retained,
  });

  const ipc =
    o.serveSocket === false
      ? undefined
      : await serveIpc(
          daemon,
          paths.nodeSocket(store.home),
          componentLogger(logger, 'ipc'),
          syncOps(daemon, store, sync),
        );
  daemon.start();
  let stopped: Promise<void> | undefined;
  return {
    me,
    store,
    daemon,
    session,
    sync,
    extensions,
    ipc,
    stop: () => {
      stopped ??= (async () => {
        await daemon.stop();
        await ipc?.close();
      })();
      return stopped;
    },
  };
}

/** Keeps the broker's refusal for the status and the `!` commands; logs it when it changes. */
function recordRefusal(store: Store, code: number, url: string, log: Logger): void {
  const staticPassword = store.config.get(NETWORK_KEYS.brokerLogin) === 'static-password';
  const before = store.brokerLogin.get();
  const state = refusalState(code, staticPassword);
  try {
    store.brokerLogin.refused(state, code, url);
  } catch {
    return; // the database is unwell; the session's own state still says it
  }
  if (before?.state !== state || before.code !== code) {
    const problem = loginProblem(store);
    if (problem) log.warn({ connack: code, broker: url }, problem.line);
  }
}

/**
 * A retained roster entry as members take it (node/core/identity/trust.ts): trusted signature or
 * invite, one enrollment per invite, superseding rules; otherwise why it was refused.
 */
function verifyRoster(
  store: Store,
  name: string,
  payload: Uint8Array,
): VerifiedRosterEntry | RefusedRosterEntry {
  const verdict = acceptRosterEntry(store, name, payload);
  return verdict.ok ? verdict.update : { refused: verdict.reason, detail: `${name}: ${verdict.detail}` };
}
