import { join } from 'node:path';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { type Logger, pino } from 'pino';
import { BrokerGate } from './aedes-hooks.ts';
import { Counters, type ListeningPorts, type StatusSnapshot } from './counters.ts';
import { type BrokerLimits, DEFAULT_LIMITS } from './limits.ts';
import { lockDataDir } from './lock.ts';
import { createSqlitePersistence, SESSIONS_DB_FILE } from './persistence/sqlite.ts';
import { type AedesPersistence, boundQueues } from './queue-bound.ts';
import { closeListeners, type Listeners, openListeners } from './server-listeners.ts';
import { statusReader, writePortsFile, writeStatusFile } from './server-status.ts';
import { BrokerState } from './state.ts';
import { type BrokerStateStore, sqliteStateStore } from './state-store.ts';
import { loadTls } from './tls.ts';

/**
 * Starts one broker: Aedes with the gate of aedes-hooks.ts, durable sessions in SQLite (or what
 * the options pass), the listeners of server-listeners.ts and the status file of server-status.ts.
 */

export { PORTS_FILE, STATUS_FILE } from './server-status.ts';

export type PersistenceFactory = (ctx: {
  dataDir: string;
  log: Logger;
}) => AedesPersistence | Promise<AedesPersistence>;

export type StateStoreFactory = (ctx: { local: BrokerState; log: Logger }) => Promise<BrokerStateStore>;

export interface StartBrokerOptions {
  /** Directory made by `isaac-broker init` (TLS key/cert, state DB). */
  dataDir: string;
  /** Address the TLS and WebSocket listeners bind to (and TCP with insecureTcp). Default 0.0.0.0. */
  host?: string;
  /** TLS port; 0 = ephemeral, false = off. Default 8883. */
  tlsPort?: number | false;
  /** Plain TCP port, on 127.0.0.1 unless insecureTcp; 0 = ephemeral, false = off. Default 1883. */
  tcpPort?: number | false;
  insecureTcp?: boolean;
  /** MQTT over WebSocket (plain; put it behind a TLS proxy) — opt-in. Default off. */
  wsPort?: number | false;
  limits?: Partial<BrokerLimits>;
  /** An Aedes 1.x persistence instance or a factory; default: see defaultPersistence below. */
  persistence?: AedesPersistence | PersistenceFactory;
  /** An mqemitter (e.g. mqemitter-redis for a cluster); default Aedes' in-process one. */
  mq?: unknown;
  /**
   * Where machines, the network key, observers and nonces live; default the data dir's SQLite
   * state. Cluster mode passes the Redis one (broker/cluster.ts `stateStore`).
   */
  stateStore?: BrokerStateStore | StateStoreFactory;
  brokerId?: string;
  /** $SYS/<id>/heartbeat period. Default 60 s. */
  heartbeatIntervalMs?: number;
  logger?: Logger;
  /** Rewrite DATA/status.json every second for `isaac-broker status`. Default true. */
  statusFile?: boolean;
}

export interface RunningBroker {
  ports: ListeningPorts;
  fingerprint: string;
  counters: Counters;
  aedes: Aedes;
  /** The state every login and admin request is decided on (SQLite alone, Redis in a cluster). */
  store: BrokerStateStore;
  /**
   * The data dir's own SQLite state: the live state of a single broker (same data as `store`);
   * in cluster mode only what seeded an empty Redis, and not kept up to date.
   */
  state: BrokerState;
  limits: BrokerLimits;
  status(): StatusSnapshot;
  /** Closes the live session of a machine and drops its queued messages (used after a revoke). */
  evict(name: string): Promise<number>;
  /** Graceful: stop accepting, close clients, flush and close persistence and state. */
  close(): Promise<void>;
}

/** The default persistence: durable SQLite in DATA/sessions.db (broker/persistence/sqlite.ts). */
async function defaultPersistence(ctx: { dataDir: string; log: Logger }): Promise<AedesPersistence> {
  // boundQueues (below) enforces limits.maxQueued and counts refusals for status, so no second bound
  return createSqlitePersistence({
    file: join(ctx.dataDir, SESSIONS_DB_FILE),
    logger: ctx.log,
    maxQueuedPerSession: Number.POSITIVE_INFINITY,
  });
}

export async function startBroker(options: StartBrokerOptions): Promise<RunningBroker> {
  const { dataDir } = options;
  const log = options.logger ?? pino({ level: 'info' });
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const tls = loadTls(dataDir);
  const unlock = lockDataDir(dataDir);
  let state: BrokerState | undefined;
  let store: BrokerStateStore | undefined;
  let persistence: AedesPersistence;
  try {
    state = new BrokerState(dataDir);
    const local = state;
    const chosenStore = options.stateStore ?? sqliteStateStore(local);
    store = typeof chosenStore === 'function' ? await chosenStore({ local, log }) : chosenStore;
    const chosen = options.persistence ?? defaultPersistence;
    persistence = typeof chosen === 'function' ? await chosen({ dataDir, log }) : chosen;
  } catch (err) {
    await store?.close();
    state?.close();
    unlock();
    throw err;
  }
  const localState = state;
  const stateStore = store;
  const counters = new Counters();

  const queues = boundQueues(persistence, limits.maxQueued, counters, log);
  const gate = new BrokerGate({ stateStore, counters, limits, queues, log, aedes: () => aedes, evict });

  const aedesOptions: AedesOptions = {
    persistence,
    mq: options.mq,
    id: options.brokerId,
    heartbeatInterval: options.heartbeatIntervalMs ?? 60_000,
    connectTimeout: limits.connectTimeoutMs,
    drainTimeout: limits.drainTimeoutMs,
    maxInflightInbound: limits.maxInflight,
    concurrency: limits.concurrency,
    maxClientsIdLength: 64,
    maxTopicLevels: 8,
    ...gate.hooks(),
  };

  const aedes = await Aedes.createBroker(aedesOptions);
  gate.watch(aedes);

  async function evict(name: string): Promise<number> {
    const live = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[name];
    if (live) await new Promise<void>((resolve) => live.close(() => resolve()));
    const dropped = await queues.drop(name);
    log.info({ machine: name, dropped }, 'revoked machine evicted');
    return dropped;
  }

  stateStore.onRevoked((name) => {
    gate.noteRevoked(name);
    log.info({ machine: name }, 'revoked at another broker of the cluster');
    // the broker that applied it published the signed revocation first: let it reach the session here
    gate
      .revocationDelivered(name)
      .then(() => evict(name))
      .catch((err: unknown) => log.error({ err, name }, 'could not close a revoked session'));
  });

  let listeners: Listeners;
  try {
    listeners = await openListeners(aedes, options, tls, { limits, counters, log });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await persistence.destroy?.();
    await stateStore.close();
    localState.close();
    unlock();
    throw err;
  }
  const { ports, servers } = listeners;
  log.info({ ...ports, fingerprint: tls.fingerprint, id: aedes.id }, 'listening');
  writePortsFile(dataDir, ports);

  const status = statusReader({
    aedes,
    counters,
    persistence,
    ports,
    isMachine: (c) => gate.isMachine(c),
    throttle: () => gate.throttle.status(),
  });
  const timers = [
    setInterval(() => {
      stateStore.pruneNonces().catch(() => undefined);
    }, 60_000),
    ...(options.statusFile === false ? [] : [setInterval(() => writeStatusFile(dataDir, status()), 1000)]),
  ];
  for (const timer of timers) timer.unref();
  if (options.statusFile !== false) writeStatusFile(dataDir, status());

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const timer of timers) clearInterval(timer);
      gate.close();
      const stopped = closeListeners(servers);
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all(stopped);
      await persistence.destroy?.();
      if (options.statusFile !== false) writeStatusFile(dataDir, { ...status(), stopped: true });
      await stateStore.close();
      localState.close();
      unlock();
      log.info('stopped');
    })();
    return closing;
  };

  return {
    ports,
    fingerprint: tls.fingerprint,
    counters,
    aedes,
    store: stateStore,
    state: localState,
    limits,
    status,
    evict,
    close,
  };
}
