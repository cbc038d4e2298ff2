/**
 * The broker's gate, as Aedes hooks: who may log in (machines, observers, admin requests), what
 * each may publish and subscribe to, and the per-client events that log and count what happened.
 */
import type { Aedes, AedesOptions, Client } from 'aedes';
import type { Logger } from 'pino';
import { ADMIN_USERNAME, CONNACK_INVITE_BEFORE_ROTATION } from '../schemas/admin.ts';
import { MACHINE_NAME_PATTERN } from '../schemas/names.ts';
import { topics } from '../schemas/topics.ts';
import { checkObserverPublish, checkObserverSubscribe, checkPublish, checkSubscribe } from './acl.ts';
import { applyAdminRequest, checkLogin } from './auth.ts';
import type { Counters } from './counters.ts';
import { type BrokerLimits, TokenBucket } from './limits.ts';
import { addressKey, type Blocked, LoginThrottle, RefusalLog } from './login-throttle.ts';
import type { boundQueues } from './queue-bound.ts';
import { clearRetainedOf, publishRevocation, remoteOf } from './server-util.ts';
import type { BrokerStateStore } from './state-store.ts';

type AuthDone = Parameters<NonNullable<AedesOptions['authenticate']>>[3];

export type AedesHooks = Pick<
  AedesOptions,
  'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
>;

export interface GateDeps {
  stateStore: BrokerStateStore;
  counters: Counters;
  limits: BrokerLimits;
  queues: ReturnType<typeof boundQueues>;
  log: Logger;
  /** The broker the hooks serve; only called once clients connect, after it exists. */
  aedes: () => Aedes;
  evict: (name: string) => Promise<number>;
}

/**
 * The CONNACK return code of a refused login (MQTT 3.1.1 has no room for a reason text): 5 "not
 * authorized" only for a revoked machine, so its node can say it was revoked; 3 "server
 * unavailable" for a login not checked now (throttled, state unreachable: try later); 2
 * "identifier rejected" for a client id that is not the login's; 4 "bad user name or password"
 * for every other credential problem. Admin requests keep 5 (sendAdminRequest's "refused").
 */
export function connackCode(reason: string): number {
  // on an admin connection every other refusal is 5 (or 3), so 4 there can only mean this one
  if (reason === 'admin-invite-old-key') return CONNACK_INVITE_BEFORE_ROTATION;
  if (reason === 'revoked' || reason === 'bad-will' || reason.startsWith('admin-')) return 5;
  if (reason === 'throttled' || reason === 'state-unavailable') return 3;
  if (reason === 'client-id-mismatch' || reason === 'observer-client-id') return 2;
  return 4;
}

/**
 * Refusals a machine that holds its secret can meet (revoked, a clock off, a token replayed by a
 * reconnect): they count against its name only, so a revoked machine retrying behind a shared
 * address (NAT, a container network) does not throttle the other machines there.
 */
const NAME_ONLY = new Set(['revoked', 'expired', 'far-future']);

export class BrokerGate {
  /** Connections carrying an admin request: let through CONNACK, then closed. */
  readonly admins = new WeakSet<Client>();
  readonly observers = new WeakSet<Client>();
  readonly throttle: LoginThrottle;
  readonly #drained = new WeakSet<Client>();
  readonly #buckets = new WeakMap<Client, TokenBucket>();
  readonly #recentlyRevoked = new Map<string, number>();
  readonly #loginLog: RefusalLog;

  constructor(private readonly deps: GateDeps) {
    this.throttle = new LoginThrottle(deps.limits);
    this.#loginLog = new RefusalLog((fields, message) => deps.log.warn(fields, message));
  }

  /** Counts and logs a refusal; the error carries its CONNACK return code (connackCode). */
  refuse(reason: string, fields: Record<string, unknown>, message: string): Error {
    this.deps.counters.refuse(reason);
    this.deps.log.warn({ ...fields, reason }, message);
    return Object.assign(new Error(reason), { returnCode: connackCode(reason) });
  }

  /**
   * A refused login or admin request: counted, fed to the throttle (unless it was the throttle's
   * own refusal) and logged through the summarising log.
   */
  #refuseLogin(
    reason: string,
    throttleName: string | undefined,
    address: string,
    fields: Record<string, unknown>,
    message: string,
  ): Error {
    this.deps.counters.refuse(reason);
    let started: Blocked[] = [];
    if (reason !== 'throttled' && reason !== 'state-unavailable')
      started = this.throttle.failed(throttleName, NAME_ONLY.has(reason) ? undefined : address);
    const throttling = started.map((b) => `${b.kind} ${b.key} for ${Math.ceil(b.retryInMs / 1000)} s`);
    this.#loginLog.refused(
      reason,
      address,
      throttling.length > 0 ? { ...fields, throttling } : fields,
      throttling.length > 0 ? `${message}; throttling ${throttling.join(' and ')}` : message,
    );
    return Object.assign(new Error(reason), { returnCode: connackCode(reason) });
  }

  /** Stops the summary timer and logs what it still holds. */
  close(): void {
    this.#loginLog.close();
  }

  /** A revoke applied at another broker: logins of that machine being checked now are refused. */
  noteRevoked(name: string): void {
    this.#recentlyRevoked.set(name, Date.now());
    setTimeout(() => this.#recentlyRevoked.delete(name), 10_000).unref();
  }

  /**
   * Resolves once `name`'s session on this broker acknowledged its revoked roster entry, after
   * `ms`, or at once when it is not connected here (or does not read roster entries): how long a
   * revoked machine's eviction waits so that it is told (its PUBACK comes after its node applied
   * the entry).
   */
  revocationDelivered(name: string, ms = 2000): Promise<void> {
    const aedes = this.deps.aedes();
    const live = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[name];
    const topic = topics.roster(name);
    const subscribed = (live as unknown as { subscriptions?: Record<string, unknown> } | undefined)
      ?.subscriptions;
    // a session that does not read roster entries (not a node) would never acknowledge one
    if (!live || !subscribed || !(topics.allRoster in subscribed || topic in subscribed))
      return Promise.resolve();
    return new Promise((resolve) => {
      const onAck = (packet: { topic?: string } | undefined, client: Client) => {
        if (client === live && packet?.topic === topic) finish();
      };
      const finish = () => {
        clearTimeout(timer);
        aedes.off('ack', onAck as never);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      aedes.on('ack', onAck as never);
    });
  }

  /** A machine's own connection, not an admin request or an observer. */
  isMachine(client: Client): boolean {
    return !this.admins.has(client) && !this.observers.has(client);
  }

  async #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: AuthDone,
  ): Promise<void> {
    const { stateStore, log, limits, queues, evict } = this.deps;
    const remote = remoteOf(client);
    const address = addressKey(remote);
    const startedAt = Date.now();
    const isAdmin = username === ADMIN_USERNAME;
    // admin requests count against their address only; logins also against their name
    const throttleName =
      !isAdmin && username !== undefined && MACHINE_NAME_PATTERN.test(username) ? username : undefined;
    const blocked = this.throttle.check(throttleName, address, startedAt);
    if (blocked) {
      done(
        this.#refuseLogin(
          'throttled',
          throttleName,
          address,
          {
            remote,
            machine: username?.slice(0, 80),
            by: `${blocked.kind} ${blocked.key}`,
            retryInMs: blocked.retryInMs,
          },
          isAdmin ? 'admin request refused' : 'login refused',
        ) as never,
        false,
      );
      return;
    }
    if (isAdmin) {
      const outcome = await applyAdminRequest(stateStore, client.id, password);
      if (!outcome.ok) {
        done(
          this.#refuseLogin(
            outcome.reason,
            undefined,
            address,
            { remote, op: outcome.request?.op, name: outcome.request?.name, detail: outcome.detail },
            'admin request refused',
          ) as never,
          false,
        );
        return;
      }
      log.info({ op: outcome.request.op, name: outcome.request.name, remote }, 'admin request applied');
      this.admins.add(client);
      if (outcome.request.op === 'revoke') {
        const { name, rosterEntry } = outcome.request;
        this.noteRevoked(name); // its connection's last will is not published either
        // the signed revocation first, so a machine connected now learns why it is cut off (it
        // can never log in to read it later), then its session ends
        const delivered = this.revocationDelivered(name);
        (rosterEntry ? publishRevocation(this.deps.aedes(), name, rosterEntry) : Promise.resolve())
          .then(() => delivered)
          .then(() => evict(name))
          .then(() => stateStore.announceRevoked(name))
          .then(() => clearRetainedOf(this.deps.aedes(), name))
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
    if (verdict.ok && (this.#recentlyRevoked.get(client.id) ?? 0) >= startedAt)
      verdict = { ok: false, reason: 'revoked' };
    if (!verdict.ok) {
      done(
        this.#refuseLogin(
          verdict.reason,
          throttleName,
          address,
          { machine: username?.slice(0, 80), clientId: client.id.slice(0, 80), remote },
          'login refused',
        ) as never,
        false,
      );
      return;
    }
    if (verdict.role === 'observer') this.observers.add(client);
    const will = (client as unknown as { _will?: { topic: string; retain: boolean } | null })._will;
    const willRefused =
      will && (verdict.role === 'observer' ? checkObserverPublish(will) : checkPublish(client.id, will));
    if (willRefused) {
      done(
        this.#refuseLogin(
          'bad-will',
          throttleName,
          address,
          { machine: username, topic: will.topic, remote },
          'login refused',
        ) as never,
        false,
      );
      return;
    }
    if (throttleName !== undefined) this.throttle.succeeded(throttleName);
    this.#buckets.set(client, new TokenBucket(limits.publishRate, limits.publishBurst));
    queues.seed(client.id).then(
      () => done(null, true),
      () => done(null, true),
    );
  }

  hooks(): AedesHooks {
    const { counters, limits, log } = this.deps;
    const machineOf = (client: Client): string => client.id;
    return {
      authenticate: (client, username, password, callback) => {
        let answered = false;
        const done: AuthDone = (err, ok) => {
          if (answered) return;
          answered = true;
          callback(err, ok);
        };
        this.#authenticate(client, username ?? undefined, password ?? undefined, done).catch(
          (err: unknown) => {
            // the state is unreachable (Redis away): refuse; the node retries with a fresh token
            log.error({ err: (err as Error).message }, 'broker state unavailable');
            done(
              this.refuse('state-unavailable', { remote: remoteOf(client) }, 'login refused') as never,
              false,
            );
          },
        );
      },
      authorizePublish: (client, packet, done) => {
        // client is null only for a will of a broker that died; wills were checked at CONNECT
        if (!client) return done(null);
        const machine = machineOf(client);
        const fields = { machine, topic: packet.topic.slice(0, 200) };
        if (this.admins.has(client)) return done(this.refuse('publish-denied', fields, 'publish refused'));
        // a session closing because its machine was just revoked: its last will would re-create
        // the retained status the revoke removes
        if (this.#recentlyRevoked.has(machine))
          return done(this.refuse('revoked', fields, 'publish refused'));
        const size = packet.payload ? Buffer.byteLength(packet.payload as Buffer) : 0;
        if (size > limits.maxPayload)
          return done(this.refuse('oversized', { ...fields, size }, 'publish refused'));
        const intent = { topic: packet.topic, retain: packet.retain };
        const acl = this.observers.has(client) ? checkObserverPublish(intent) : checkPublish(machine, intent);
        if (acl) return done(this.refuse(acl, fields, 'publish refused'));
        if (!this.#buckets.get(client)?.take())
          return done(this.refuse('rate-limited', fields, 'publish refused'));
        counters.published++;
        done(null);
      },
      authorizeSubscribe: (client, sub, done) => {
        const machine = machineOf(client);
        const acl = this.admins.has(client)
          ? 'subscribe-denied'
          : this.observers.has(client)
            ? checkObserverSubscribe(sub.topic)
            : checkSubscribe(machine, sub.topic);
        if (acl) {
          this.refuse(acl, { machine, topic: sub.topic.slice(0, 200) }, 'subscribe refused');
          return done(null, null);
        }
        done(null, sub);
      },
      authorizeForward: (_client, packet) => {
        counters.delivered++;
        return packet;
      },
    };
  }

  /** Logs connections, closes admin-request connections after CONNACK, counts drain timeouts. */
  watch(aedes: Aedes): void {
    const { log } = this.deps;
    aedes.on('connackSent', (_packet, client) => {
      if (this.admins.has(client)) setImmediate(() => client.close());
    });
    aedes.on('clientError', (client, err) => {
      if (err.message === 'drain timeout') {
        // Aedes fails every pending write with the same error; count the client once
        if (this.#drained.has(client)) return;
        this.#drained.add(client);
        this.refuse(
          'drain-timeout',
          { machine: client.id?.slice(0, 80) },
          'client stopped reading: disconnected',
        );
        return;
      }
      log.debug({ clientId: client.id?.slice(0, 80), err: err.message }, 'client error');
    });
    aedes.on('connectionError', (client, err) => {
      log.debug({ remote: remoteOf(client), err: err.message }, 'connection error');
    });
    aedes.on('clientReady', (client) => {
      if (this.observers.has(client))
        log.info({ observer: client.id, remote: remoteOf(client) }, 'observer connected');
      else if (!this.admins.has(client))
        log.info({ machine: client.id, remote: remoteOf(client) }, 'connected');
    });
    aedes.on('clientDisconnect', (client) => {
      if (this.isMachine(client)) log.info({ machine: client.id }, 'disconnected');
    });
  }
}
