/**
 * An Aedes 1.2 persistence (aedes-persistence 11 async interface) backed by one SQLite file via
 * better-sqlite3. Every write is a synchronous, committed transaction before the returned promise
 * resolves, so whatever Aedes acknowledges after awaiting us is on disk. Subscriptions and
 * retained messages are mirrored in memory for matching; queues, incoming QoS-2 packets and wills
 * live only in SQLite. This class wires the parts together:
 *   sqlite-subscriptions.ts   retained messages and subscriptions
 *   sqlite-outgoing.ts        offline queues, their bound and in-flight message ids
 *   sqlite-session-packets.ts incoming QoS 2 packets and wills
 *   group-commit.ts           the writer batching commits
 */
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { StoreError } from '../../schemas/errors.ts';
import { ensurePrivateFile } from '../private-files.ts';
import { installAckAfterStore } from './ack-after-store.ts';
import { GroupCommit } from './group-commit.ts';
import type {
  AedesAsyncPersistence,
  BrokerHandle,
  SessionRef,
  StoredPacket,
  SubscriptionRecord,
  TopicSubscription,
} from './interface.ts';
import { OutgoingQueues, type PersistenceStats, type QueueFullEvent } from './sqlite-outgoing.ts';
import { openSchema, type Synchronous } from './sqlite-schema.ts';
import { IncomingPackets, Wills } from './sqlite-session-packets.ts';
import { prepareStatements, type Statements } from './sqlite-statements.ts';
import { RetainedMessages, Subscriptions } from './sqlite-subscriptions.ts';

export type { PersistenceStats, QueueFullEvent };

export interface SqlitePersistenceOptions {
  /** The database file (created with its directory's permissions; WAL files sit beside it). */
  file: string;
  /** Max QoS>0 packets queued per persistent session; further ones are refused. Default 10,000. */
  maxQueuedPerSession?: number;
  /** 'normal' (default) survives kill -9; 'full' also fsyncs each commit to survive power loss. */
  synchronous?: Synchronous;
  /** Called (after the counter is bumped) each time a full queue refuses a packet. */
  onQueueFull?: (event: QueueFullEvent) => void;
  /** pino-compatible; a full queue logs one warn line per session per 10 s. */
  logger?: { warn(obj: object, msg: string): void };
}

/** The file `isaac-broker start` keeps sessions, queues and retained messages in, in its data dir. */
export const SESSIONS_DB_FILE = 'sessions.db';

const DEFAULT_MAX_QUEUED = 10_000;

export class SqlitePersistence implements AedesAsyncPersistence {
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #commit: GroupCommit;
  readonly #retained: RetainedMessages;
  readonly #subscriptions: Subscriptions;
  readonly #queues: OutgoingQueues;
  readonly #incoming: IncomingPackets;
  readonly #wills: Wills;
  #uninstall: (() => void) | undefined;
  #broker: BrokerHandle | undefined;
  #destroyed = false;

  constructor(options: SqlitePersistenceOptions) {
    try {
      if (options.file !== ':memory:') ensurePrivateFile(options.file);
      this.#db = new Database(options.file);
      openSchema(this.#db, options.synchronous ?? 'normal');
    } catch (err) {
      throw new StoreError(`cannot open broker persistence ${options.file}: ${(err as Error).message}`, {
        hint: 'check that the data directory exists, is writable, and is not used by another isaac-broker',
      });
    }
    const sql = prepareStatements(this.#db);
    this.#sql = sql;
    const commit = new GroupCommit(this.#db, () => this.#load());
    this.#commit = commit;
    this.#retained = new RetainedMessages(sql, commit);
    this.#subscriptions = new Subscriptions(sql, commit);
    this.#queues = new OutgoingQueues(sql, commit, {
      maxQueued: options.maxQueuedPerSession ?? DEFAULT_MAX_QUEUED,
      onQueueFull: options.onQueueFull,
      logger: options.logger,
    });
    this.#incoming = new IncomingPackets(sql, commit);
    this.#wills = new Wills(sql, commit, () => this.#broker?.id);
    this.#load();
  }

  get broker(): BrokerHandle | undefined {
    return this.#broker;
  }

  /** (Re)reads the in-memory mirrors from SQLite: at open, and after a failed group commit. */
  #load(): void {
    this.#subscriptions.load();
    this.#retained.load();
    this.#queues.load();
  }

  async setup(broker: BrokerHandle): Promise<void> {
    this.#broker = broker;
    // Counters restart at 0 with a process; keep them above any stored for a fixed broker id so
    // brokerId+brokerCounter keeps naming one packet.
    const max = (this.#sql.maxCounter.get(broker.id) as { m: number | null }).m ?? 0;
    if (typeof broker.counter === 'number' && broker.counter < max) broker.counter = max;
    this.#uninstall = installAckAfterStore(broker);
  }

  // ---- retained ----------------------------------------------------------------------------

  storeRetained(pkt: StoredPacket): Promise<void> {
    return this.#retained.store(pkt);
  }

  createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern]);
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    return this.#retained.stream(patterns);
  }

  // ---- subscriptions -----------------------------------------------------------------------

  addSubscriptions(client: SessionRef, subs: SubscriptionRecord[]): Promise<void> {
    return this.#subscriptions.add(client, subs);
  }

  removeSubscriptions(client: SessionRef, topics: string[]): Promise<void> {
    return this.#subscriptions.remove(client, topics);
  }

  async subscriptionsByClient(client: SessionRef): Promise<SubscriptionRecord[]> {
    return this.#subscriptions.byClient(client);
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return this.#subscriptions.countOffline();
  }

  async subscriptionsByTopic(topic: string): Promise<TopicSubscription[]> {
    return this.#subscriptions.byTopic(topic);
  }

  cleanSubscriptions(client: SessionRef): Promise<void> {
    return this.#subscriptions.clean(client);
  }

  getClientList(topic: string): Readable {
    return this.#subscriptions.clientList(topic);
  }

  // ---- outgoing queues ---------------------------------------------------------------------

  outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    return this.#queues.enqueue(sub, packet);
  }

  outgoingEnqueueCombi(subs: { clientId: string }[], packet: StoredPacket): Promise<void> {
    return this.#queues.enqueueCombi(subs, packet);
  }

  outgoingUpdate(client: SessionRef, packet: StoredPacket): Promise<void> {
    return this.#queues.update(client, packet);
  }

  outgoingClearMessageId(client: SessionRef, packet: StoredPacket): Promise<StoredPacket | undefined> {
    return this.#queues.clearMessageId(client, packet);
  }

  outgoingStream(client: SessionRef): Readable {
    return this.#queues.stream(client);
  }

  // ---- incoming QoS 2 ----------------------------------------------------------------------

  incomingStorePacket(client: SessionRef, packet: StoredPacket): Promise<void> {
    return this.#incoming.store(client, packet);
  }

  incomingGetPacket(client: SessionRef, packet: Pick<StoredPacket, 'messageId'>): Promise<StoredPacket> {
    return this.#incoming.get(client, packet);
  }

  incomingDelPacket(client: SessionRef, packet: Pick<StoredPacket, 'messageId'>): Promise<void> {
    return this.#incoming.del(client, packet);
  }

  cleanIncoming(client: SessionRef): Promise<void> {
    return this.#incoming.clean(client);
  }

  // ---- wills -------------------------------------------------------------------------------

  putWill(client: SessionRef, packet: StoredPacket): Promise<void> {
    return this.#wills.put(client, packet);
  }

  getWill(client: SessionRef): Promise<StoredPacket | undefined> {
    return this.#wills.get(client);
  }

  delWill(client: SessionRef): Promise<StoredPacket | undefined> {
    return this.#wills.del(client);
  }

  streamWill(brokers: Record<string, number> = {}): Readable {
    return this.#wills.stream(brokers);
  }

  // ---- for the broker's status and admin ---------------------------------------------------

  /** Queued packets of one session (what `isaac-broker status` shows as its depth). */
  queueDepth(clientId: string): number {
    return this.#queues.depth(clientId);
  }

  stats(): PersistenceStats {
    return this.#queues.stats();
  }

  /** Forgets everything of one session: subscriptions, queue, incoming packets, will (revoke). */
  async dropSession(clientId: string): Promise<number> {
    const queued = this.queueDepth(clientId);
    await this.cleanSubscriptions({ id: clientId });
    await this.#queues.drop(clientId, () => {
      this.#sql.deleteIncomingOf.run(clientId);
      this.#sql.deleteWill.run(clientId);
    });
    return queued;
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#uninstall?.();
    this.#commit.flush();
    this.#db.close();
  }
}

export function createSqlitePersistence(options: SqlitePersistenceOptions): SqlitePersistence {
  return new SqlitePersistence(options);
}
