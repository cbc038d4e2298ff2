import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { type Logger, pino } from 'pino';
import { ADMIN_USERNAME } from '../schemas/admin.ts';
import { ConfigError } from '../schemas/errors.ts';
import { checkObserverPublish, checkObserverSubscribe, checkPublish, checkSubscribe } from './acl.ts';
import { applyAdminRequest, checkLogin } from './auth.ts';
import { Counters, type ListeningPorts, type StatusSnapshot } from './counters.ts';
import { type BrokerLimits, DEFAULT_LIMITS, guardFrameSize, TokenBucket } from './limits.ts';
import { lockDataDir } from './lock.ts';
import { createSqlitePersistence, SESSIONS_DB_FILE } from './persistence/sqlite.ts';
import { type AedesPersistence, boundQueues } from './queue-bound.ts';
import { publishRevocation, remoteOf, writeJson } from './server-util.ts';
import { BrokerState } from './state.ts';
import { type BrokerStateStore, sqliteStateStore } from './state-store.ts';
import { loadTls } from './tls.ts';

export const STATUS_FILE = 'status.json';
export const PORTS_FILE = 'ports.json';

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

  const admins = new WeakSet<Client>();
  const observers = new WeakSet<Client>();
  const drained = new WeakSet<Client>();
  const buckets = new WeakMap<Client, TokenBucket>();
  const machineOf = (client: Client): string => client.id;

  function refuse(reason: string, fields: Record<string, unknown>, message: string): Error {
    counters.refuse(reason);
    log.warn({ ...fields, reason }, message);
    return Object.assign(new Error(reason), { returnCode: 5 });
  }

  type AuthDone = Parameters<NonNullable<AedesOptions['authenticate']>>[3];
  const recentlyRevoked = new Map<string, number>();

  async function authenticateAsync(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: AuthDone,
  ): Promise<void> {
    const remote = remoteOf(client);
    const startedAt = Date.now();
    if (username === ADMIN_USERNAME) {
      const outcome = await applyAdminRequest(stateStore, client.id, password);
      if (!outcome.ok) {
        done(
          refuse(
            outcome.reason,
            { remote, op: outcome.request?.op, name: outcome.request?.name, detail: outcome.detail },
            'admin request refused',
          ) as never,
          false,
        );
        return;
      }
      log.info({ op: outcome.request.op, name: outcome.request.name, remote }, 'admin request applied');
      admins.add(client);
      if (outcome.request.op === 'revoke') {
        const { name, rosterEntry } = outcome.request;
        evict(name)
          .then(() => stateStore.announceRevoked(name))
          .then(() => (rosterEntry ? publishRevocation(aedes, name, rosterEntry) : undefined))
          .then(
            () => done(null, true),
            (err: unknown) => {
              log.error({ err, name }, 'revoke: could not drop the session or publish the revocation');
              done(null, true);
            },
          );
        return;
      }
      done(null, true);
      return;
    }
    let verdict = await checkLogin(stateStore, client.id, username, password);
    // a revoke applied at another broker while this login was being checked
    if (verdict.ok && (recentlyRevoked.get(client.id) ?? 0) >= startedAt)
      verdict = { ok: false, reason: 'revoked' };
    if (!verdict.ok) {
      done(
        refuse(
          verdict.reason,
          { machine: username, clientId: client.id.slice(0, 80), remote },
          'login refused',
        ) as never,
        false,
      );
      return;
    }
    if (verdict.role === 'observer') observers.add(client);
    const will = (client as unknown as { _will?: { topic: string; retain: boolean } | null })._will;
    const willRefused =
      will && (verdict.role === 'observer' ? checkObserverPublish(will) : checkPublish(client.id, will));
    if (willRefused) {
      done(
        refuse('bad-will', { machine: username, topic: will.topic, remote }, 'login refused') as never,
        false,
      );
      return;
    }
    buckets.set(client, new TokenBucket(limits.publishRate, limits.publishBurst));
    queues.seed(client.id).then(
      () => done(null, true),
      () => done(null, true),
    );
  }

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
    authenticate(client, username, password, callback) {
      let answered = false;
      const done: AuthDone = (err, ok) => {
        if (answered) return;
        answered = true;
        callback(err, ok);
      };
      authenticateAsync(client, username ?? undefined, password ?? undefined, done).catch((err: unknown) => {
        // the state is unreachable (Redis away): refuse; the node retries with a fresh token
        log.error({ err: (err as Error).message }, 'broker state unavailable');
        done(refuse('state-unavailable', { remote: remoteOf(client) }, 'login refused') as never, false);
      });
    },
    authorizePublish(client, packet, done) {
      // client is null only for a will of a broker that died; wills were checked at CONNECT
      if (!client) return done(null);
      const machine = machineOf(client);
      const fields = { machine, topic: packet.topic.slice(0, 200) };
      if (admins.has(client)) return done(refuse('publish-denied', fields, 'publish refused'));
      const size = packet.payload ? Buffer.byteLength(packet.payload as Buffer) : 0;
      if (size > limits.maxPayload) return done(refuse('oversized', { ...fields, size }, 'publish refused'));
      const intent = { topic: packet.topic, retain: packet.retain };
      const acl = observers.has(client) ? checkObserverPublish(intent) : checkPublish(machine, intent);
      if (acl) return done(refuse(acl, fields, 'publish refused'));
      if (!buckets.get(client)?.take()) return done(refuse('rate-limited', fields, 'publish refused'));
      counters.published++;
      done(null);
    },
    authorizeSubscribe(client, sub, done) {
      const machine = machineOf(client);
      const acl = admins.has(client)
        ? 'subscribe-denied'
        : observers.has(client)
          ? checkObserverSubscribe(sub.topic)
          : checkSubscribe(machine, sub.topic);
      if (acl) {
        refuse(acl, { machine, topic: sub.topic.slice(0, 200) }, 'subscribe refused');
        return done(null, null);
      }
      done(null, sub);
    },
    authorizeForward(_client, packet) {
      counters.delivered++;
      return packet;
    },
  };

  const aedes = await Aedes.createBroker(aedesOptions);
  aedes.on('connackSent', (_packet, client) => {
    if (admins.has(client)) setImmediate(() => client.close());
  });
  aedes.on('clientError', (client, err) => {
    if (err.message === 'drain timeout') {
      // Aedes fails every pending write with the same error; count the client once
      if (drained.has(client)) return;
      drained.add(client);
      refuse('drain-timeout', { machine: client.id?.slice(0, 80) }, 'client stopped reading: disconnected');
      return;
    }
    log.debug({ clientId: client.id?.slice(0, 80), err: err.message }, 'client error');
  });
  aedes.on('connectionError', (client, err) => {
    log.debug({ remote: remoteOf(client), err: err.message }, 'connection error');
  });
  aedes.on('clientReady', (client) => {
    if (observers.has(client))
      log.info({ observer: client.id, remote: remoteOf(client) }, 'observer connected');
    else if (!admins.has(client)) log.info({ machine: client.id, remote: remoteOf(client) }, 'connected');
  });
  aedes.on('clientDisconnect', (client) => {
    if (!admins.has(client) && !observers.has(client)) log.info({ machine: client.id }, 'disconnected');
  });

  function handle(socket: Socket): void {
    socket.on('error', () => undefined);
    // small request/response envelopes (exec, ping) must not wait for Nagle's 40 ms coalescing
    socket.setNoDelay(true);
    const client = aedes.handle(socket);
    guardFrameSize(client, limits.maxPayload, () => {
      counters.refuse('oversized');
      log.warn({ remote: socket.remoteAddress, reason: 'oversized' }, 'packet refused');
    });
  }

  async function evict(name: string): Promise<number> {
    const live = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[name];
    if (live) await new Promise<void>((resolve) => live.close(() => resolve()));
    const dropped = await queues.drop(name);
    log.info({ machine: name, dropped }, 'revoked machine evicted');
    return dropped;
  }

  stateStore.onRevoked((name) => {
    recentlyRevoked.set(name, Date.now());
    setTimeout(() => recentlyRevoked.delete(name), 10_000).unref();
    log.info({ machine: name }, 'revoked at another broker of the cluster');
    evict(name).catch((err: unknown) => log.error({ err, name }, 'could not close a revoked session'));
  });

  const servers: Server[] = [];
  const listen = (server: Server, port: number, host: string): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        servers.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });

  const host = options.host ?? '0.0.0.0';
  const ports: ListeningPorts = { tls: null, tcp: null, ws: null };
  try {
    const tlsPort = options.tlsPort ?? 8883;
    if (tlsPort !== false) {
      const server = createTlsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, handle);
      server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'));
      ports.tls = await listen(server, tlsPort, host);
    }
    const tcpPort = options.tcpPort ?? 1883;
    if (tcpPort !== false) {
      ports.tcp = await listen(createTcpServer(handle), tcpPort, options.insecureTcp ? host : '127.0.0.1');
    }
    if (options.wsPort !== undefined && options.wsPort !== false) {
      const { listenWebSocket } = await import('./websocket.ts');
      const ws = await listenWebSocket(aedes, options.wsPort, host);
      servers.push(ws.server);
      ports.ws = ws.port;
    }
  } catch (err) {
    for (const server of servers) server.close();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await persistence.destroy?.();
    await stateStore.close();
    localState.close();
    unlock();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const { address, port } = err as { address?: string; port?: number };
      throw new ConfigError(`port ${port} on ${address} is already in use`, {
        hint: 'choose another --tls-port/--tcp-port/--ws-port, or stop the program using it',
      });
    }
    throw err;
  }
  log.info({ ...ports, fingerprint: tls.fingerprint, id: aedes.id }, 'listening');
  writeJson(join(dataDir, PORTS_FILE), { ...ports, pid: process.pid });

  const status = (): StatusSnapshot => {
    const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
    counters.connected.clear();
    for (const [id, client] of Object.entries(clients))
      if (!admins.has(client) && !observers.has(client)) counters.connected.add(id);
    const snapshot = counters.snapshot();
    // the persistence knows the queues of machines that have not logged in since a restart
    const persisted = persistence.stats?.().queued ?? {};
    const queueDepth = {
      ...Object.fromEntries(Object.entries(persisted).filter(([, n]) => n > 0)),
      ...snapshot.queueDepth,
    };
    return { ...snapshot, queueDepth, pid: process.pid, ports };
  };
  const timers = [
    setInterval(() => {
      stateStore.pruneNonces().catch(() => undefined);
    }, 60_000),
    ...(options.statusFile === false
      ? []
      : [setInterval(() => writeJson(join(dataDir, STATUS_FILE), status()), 1000)]),
  ];
  for (const timer of timers) timer.unref();
  if (options.statusFile !== false) writeJson(join(dataDir, STATUS_FILE), status());

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const timer of timers) clearInterval(timer);
      const stopped = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all(stopped);
      await persistence.destroy?.();
      if (options.statusFile !== false) writeJson(join(dataDir, STATUS_FILE), { ...status(), stopped: true });
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
