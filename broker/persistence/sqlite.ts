/**
 * An Aedes 1.2 persistence (aedes-persistence 11 async interface) backed by one SQLite file via
 * better-sqlite3. Every write is a synchronous, committed transaction before the returned promise
 * resolves, so whatever Aedes acknowledges after awaiting us is on disk. Subscriptions and
 * retained messages are mirrored in memory for matching; queues, incoming QoS-2 packets and wills
 * live only in SQLite.
 */
import { Readable } from 'node:stream';
import { deserialize, serialize } from 'node:v8';
import Database from 'better-sqlite3';
import { StoreError } from '../../schemas/errors.ts';
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
import { patternSet, type SubscriptionTrie, subscriptionTrie, toPacket } from './qlobber.ts';
import { openSchema, type Synchronous } from './sqlite-schema.ts';
import { prepareStatements, type Statements } from './sqlite-statements.ts';

export interface QueueFullEvent {
  clientId: string;
  topic: string | undefined;
  queued: number;
  dropped: number;
}

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

export interface PersistenceStats {
  queued: Record<string, number>;
  dropped: Record<string, number>;
  droppedTotal: number;
}

/** The file `isaac-broker start` keeps sessions, queues and retained messages in, in its data dir. */
export const SESSIONS_DB_FILE = 'sessions.db';

const DEFAULT_MAX_QUEUED = 10_000;
const STREAM_PAGE = 64;
const FULL_LOG_INTERVAL_MS = 10_000;

type StoredRecord = Omit<SubscriptionRecord, 'topic'>;

function encode(value: unknown): Buffer {
  return serialize(value);
}

function decode<T>(blob: Buffer): T {
  return deserialize(blob) as T;
}

function noSuchPacket(): Error {
  return new StoreError('no such packet', { hint: 'the session no longer holds this message id' });
}

export class SqlitePersistence implements AedesAsyncPersistence {
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #maxQueued: number;
  readonly #options: SqlitePersistenceOptions;
  #trie: SubscriptionTrie = subscriptionTrie();
  readonly #commit: GroupCommit;
  // Message ids name packets only within one connection, so they live in memory: seq -> id and
  // per session id -> seq. After a restart Aedes numbers every queued packet afresh anyway.
  readonly #messageIdOf = new Map<number, number>();
  readonly #seqByMessageId = new Map<string, Map<number, Set<number>>>();
  readonly #subscriptions = new Map<string, Map<string, StoredRecord>>();
  readonly #retained = new Map<string, StoredPacket>();
  readonly #queueDepth = new Map<string, number>();
  readonly #dropped = new Map<string, number>();
  readonly #lastFullLog = new Map<string, number>();
  #uninstall: (() => void) | undefined;
  #droppedTotal = 0;
  #broker: BrokerHandle | undefined;
  #destroyed = false;

  constructor(options: SqlitePersistenceOptions) {
    this.#options = options;
    this.#maxQueued = options.maxQueuedPerSession ?? DEFAULT_MAX_QUEUED;
    try {
      this.#db = new Database(options.file);
      openSchema(this.#db, options.synchronous ?? 'normal');
    } catch (err) {
      throw new StoreError(`cannot open broker persistence ${options.file}: ${(err as Error).message}`, {
        hint: 'check that the data directory exists, is writable, and is not used by another isaac-broker',
      });
    }
    this.#sql = prepareStatements(this.#db);
    this.#commit = new GroupCommit(this.#db, () => this.#load());
    this.#load();
  }

  get broker(): BrokerHandle | undefined {
    return this.#broker;
  }

  #load(): void {
    this.#trie = subscriptionTrie();
    this.#subscriptions.clear();
    this.#retained.clear();
    this.#queueDepth.clear();
    for (const row of this.#sql.allRetained.all() as { topic: string; packet: Buffer }[]) {
      this.#retained.set(row.topic, decode(row.packet));
    }
    for (const row of this.#sql.allSubscriptions.all() as {
      client_id: string;
      topic: string;
      record: Buffer;
    }[]) {
      this.#addToMemory(row.client_id, row.topic, decode<StoredRecord>(row.record));
    }
    for (const row of this.#sql.queueDepths.all() as { client_id: string; n: number }[]) {
      this.#queueDepth.set(row.client_id, row.n);
    }
    this.#messageIdOf.clear();
    this.#seqByMessageId.clear();
    for (const row of this.#sql.storedMessageIds.all() as {
      seq: number;
      client_id: string;
      message_id: number;
    }[]) {
      this.#assign(row.client_id, row.seq, row.message_id);
    }
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

  async storeRetained(pkt: StoredPacket): Promise<void> {
    const packet = { ...pkt };
    const empty = packet.payload === undefined || packet.payload.length === 0;
    await this.#commit.run(() => {
      if (empty) {
        this.#sql.deleteRetained.run(packet.topic);
        this.#retained.delete(packet.topic ?? '');
      } else {
        this.#sql.putRetained.run(packet.topic, encode(packet));
        this.#retained.set(packet.topic ?? '', packet);
      }
    });
  }

  createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern]);
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    const retained = this.#retained;
    const matchers = patterns.map((p) => patternSet([p]));
    function* matching(): Generator<StoredPacket> {
      // one pass per pattern, as the reference implementation does (a topic matched by two
      // patterns is sent twice; Aedes dedupes by subscription)
      for (const matcher of matchers) {
        for (const [topic, packet] of retained) if (matcher.test(topic)) yield packet;
      }
    }
    return Readable.from(matching());
  }

  // ---- subscriptions -----------------------------------------------------------------------

  #addToMemory(clientId: string, topic: string, record: StoredRecord): void {
    let stored = this.#subscriptions.get(clientId);
    if (!stored) {
      stored = new Map();
      this.#subscriptions.set(clientId, stored);
    }
    const previous = stored.get(topic);
    if (record.qos > 0) {
      this.#trie.add(topic, {
        clientId,
        topic,
        qos: record.qos,
        rh: record.rh,
        rap: record.rap,
        nl: record.nl,
      });
    } else if (previous && previous.qos > 0) {
      this.#trie.remove(topic, { clientId, topic });
    }
    stored.set(topic, record);
  }

  async addSubscriptions(client: SessionRef, subs: SubscriptionRecord[]): Promise<void> {
    await this.#commit.run(() => {
      for (const sub of subs) {
        const record: StoredRecord = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl };
        if (sub.subscriptionIdentifier !== undefined)
          record.subscriptionIdentifier = sub.subscriptionIdentifier;
        this.#sql.putSubscription.run(client.id, sub.topic, encode(record));
        this.#addToMemory(client.id, sub.topic, record);
      }
    }, subs.length > 1);
  }

  async removeSubscriptions(client: SessionRef, topics: string[]): Promise<void> {
    const stored = this.#subscriptions.get(client.id);
    if (!stored) return;
    await this.#commit.run(() => {
      for (const topic of topics) {
        const record = stored.get(topic);
        if (record === undefined) continue;
        if (record.qos > 0) this.#trie.remove(topic, { clientId: client.id, topic });
        stored.delete(topic);
        this.#sql.deleteSubscription.run(client.id, topic);
      }
      if (stored.size === 0) this.#subscriptions.delete(client.id);
    }, topics.length > 1);
  }

  async subscriptionsByClient(client: SessionRef): Promise<SubscriptionRecord[]> {
    const stored = this.#subscriptions.get(client.id);
    if (!stored) return [];
    return [...stored].map(([topic, record]) => ({ topic, ...record }));
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return { subsCount: this.#trie.subscriptionsCount, clientsCount: this.#subscriptions.size };
  }

  async subscriptionsByTopic(topic: string): Promise<TopicSubscription[]> {
    return this.#trie.match(topic);
  }

  async cleanSubscriptions(client: SessionRef): Promise<void> {
    const stored = this.#subscriptions.get(client.id);
    if (!stored) return;
    for (const [topic, record] of stored) {
      if (record.qos > 0) this.#trie.remove(topic, { clientId: client.id, topic });
    }
    this.#subscriptions.delete(client.id);
    await this.#commit.run(() => this.#sql.deleteSubscriptionsOf.run(client.id));
  }

  getClientList(topic: string): Readable {
    const clients = [...this.#subscriptions].filter(([, topics]) => topics.has(topic)).map(([id]) => id);
    return Readable.from(clients);
  }

  // ---- outgoing queues ---------------------------------------------------------------------

  /** Inserts one queued packet unless the session's queue is full; returns whether it did. */
  #enqueueOne(clientId: string, packet: StoredPacket, blob: Buffer): boolean {
    const depth = this.#queueDepth.get(clientId) ?? 0;
    if (depth >= this.#maxQueued) {
      this.#refuse(clientId, packet.topic, depth);
      return false;
    }
    this.#sql.enqueue.run(
      clientId,
      packet.brokerId ?? null,
      packet.brokerCounter ?? null,
      packet.messageId ?? null,
      blob,
    );
    this.#queueDepth.set(clientId, depth + 1);
    return true;
  }

  #refuse(clientId: string, topic: string | undefined, queued: number): void {
    const dropped = (this.#dropped.get(clientId) ?? 0) + 1;
    this.#dropped.set(clientId, dropped);
    this.#droppedTotal++;
    const now = Date.now();
    if ((this.#lastFullLog.get(clientId) ?? 0) + FULL_LOG_INTERVAL_MS <= now) {
      this.#lastFullLog.set(clientId, now);
      const fields = { machine: clientId, topic, queued, dropped, reason: 'queue-full' };
      if (this.#options.logger) this.#options.logger.warn(fields, 'offline queue full: message not queued');
      else
        process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'offline queue full', ...fields })}\n`);
    }
    this.#options.onQueueFull?.({ clientId, topic, queued, dropped });
  }

  async outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    const queued = toPacket(packet);
    await this.#commit.run(() => this.#enqueueOne(sub.clientId, queued, encode(queued)));
  }

  async outgoingEnqueueCombi(subs: { clientId: string }[], packet: StoredPacket): Promise<void> {
    const queued = toPacket(packet);
    const blob = encode(queued);
    await this.#commit.run(() => {
      for (const sub of subs) this.#enqueueOne(sub.clientId, queued, blob);
    }, subs.length > 1);
  }

  #idsOf(clientId: string): Map<number, Set<number>> {
    let ids = this.#seqByMessageId.get(clientId);
    if (!ids) {
      ids = new Map();
      this.#seqByMessageId.set(clientId, ids);
    }
    return ids;
  }

  /** Records (or, with null, forgets) the message id a queued packet is in flight under. */
  #assign(clientId: string, seq: number, messageId: number | null): void {
    const ids = this.#idsOf(clientId);
    const old = this.#messageIdOf.get(seq);
    if (old !== undefined) {
      const seqs = ids.get(old);
      seqs?.delete(seq);
      if (seqs?.size === 0) ids.delete(old);
    }
    if (messageId === null) {
      this.#messageIdOf.delete(seq);
      if (ids.size === 0) this.#seqByMessageId.delete(clientId);
      return;
    }
    this.#messageIdOf.set(seq, messageId);
    const seqs = ids.get(messageId);
    if (seqs) seqs.add(seq);
    else ids.set(messageId, new Set([seq]));
  }

  /** The oldest queued packet of the session in flight under this id (as the reference finds it). */
  #seqOf(clientId: string, messageId: number): number | undefined {
    const seqs = this.#seqByMessageId.get(clientId)?.get(messageId);
    if (!seqs || seqs.size === 0) return undefined;
    return Math.min(...seqs);
  }

  #readQueued(row: { seq: number; message_id: number | null; packet: Buffer }): StoredPacket {
    const packet = decode<StoredPacket>(row.packet);
    const messageId = this.#messageIdOf.get(row.seq) ?? row.message_id;
    if (messageId !== null) packet.messageId = messageId;
    return packet;
  }

  async outgoingUpdate(client: SessionRef, packet: StoredPacket): Promise<void> {
    const brokerId = packet.brokerId ?? null;
    const messageId = typeof packet.messageId === 'number' ? packet.messageId : null;
    // the packet's own row by brokerId+brokerCounter: only its message id changes (kept in memory)
    if (brokerId !== null) {
      const own = this.#sql.findByCounter.get(client.id, brokerId, packet.brokerCounter ?? null) as
        | { seq: number }
        | undefined;
      if (own) {
        this.#assign(client.id, own.seq, messageId);
        return;
      }
    }
    // otherwise a PUBREL (QoS 2) replacing the PUBLISH it follows, found by message id
    const seq = messageId === null ? undefined : this.#seqOf(client.id, messageId);
    if (seq === undefined) throw noSuchPacket();
    const replacement = encode({ ...packet });
    await this.#commit.run(() =>
      this.#sql.replaceQueued.run(brokerId, packet.brokerCounter ?? null, messageId, replacement, seq),
    );
    this.#assign(client.id, seq, messageId);
  }

  async outgoingClearMessageId(client: SessionRef, packet: StoredPacket): Promise<StoredPacket | undefined> {
    if (typeof packet?.messageId !== 'number') return undefined;
    const seq = this.#seqOf(client.id, packet.messageId);
    if (seq === undefined) return undefined;
    const row = this.#sql.getQueued.get(seq) as
      | { seq: number; message_id: number | null; packet: Buffer }
      | undefined;
    if (!row) {
      this.#assign(client.id, seq, null);
      return undefined;
    }
    const cleared = this.#readQueued(row);
    await this.#commit.run(() => {
      this.#sql.deleteQueued.run(seq);
      this.#assign(client.id, seq, null);
      const depth = this.#queueDepth.get(client.id) ?? 1;
      if (depth > 1) this.#queueDepth.set(client.id, depth - 1);
      else this.#queueDepth.delete(client.id);
    });
    return cleared;
  }

  outgoingStream(client: SessionRef): Readable {
    // bounded by the queue as it is now, like the reference's snapshot: packets enqueued later
    // reach an online client live, not through this stream
    const last = (this.#sql.lastSeqOf.get(client.id) as { m: number | null }).m ?? 0;
    const sql = this.#sql;
    const read = (row: { seq: number; message_id: number | null; packet: Buffer }) => this.#readQueued(row);
    function* pages(): Generator<StoredPacket> {
      let after = 0;
      for (;;) {
        const rows = sql.queuePage.all(client.id, after, last, STREAM_PAGE) as {
          seq: number;
          message_id: number | null;
          packet: Buffer;
        }[];
        if (rows.length === 0) return;
        for (const row of rows) {
          after = row.seq;
          yield read(row);
        }
      }
    }
    return Readable.from(pages());
  }

  // ---- incoming QoS 2 ----------------------------------------------------------------------

  async incomingStorePacket(client: SessionRef, packet: StoredPacket): Promise<void> {
    const stored = toPacket(packet);
    stored.messageId = packet.messageId;
    const blob = encode(stored);
    await this.#commit.run(() => this.#sql.putIncoming.run(client.id, packet.messageId, blob));
  }

  async incomingGetPacket(
    client: SessionRef,
    packet: Pick<StoredPacket, 'messageId'>,
  ): Promise<StoredPacket> {
    const row = this.#sql.getIncoming.get(client.id, packet.messageId ?? null) as
      | { packet: Buffer }
      | undefined;
    if (!row) throw noSuchPacket();
    return decode(row.packet);
  }

  async incomingDelPacket(client: SessionRef, packet: Pick<StoredPacket, 'messageId'>): Promise<void> {
    const result = await this.#commit.run(() =>
      this.#sql.deleteIncoming.run(client.id, packet.messageId ?? null),
    );
    if (result.changes === 0) throw noSuchPacket();
  }

  async cleanIncoming(client: SessionRef): Promise<void> {
    await this.#commit.run(() => this.#sql.deleteIncomingOf.run(client.id));
  }

  // ---- wills -------------------------------------------------------------------------------

  async putWill(client: SessionRef, packet: StoredPacket): Promise<void> {
    packet.brokerId = this.#broker?.id;
    packet.clientId = client.id;
    const blob = encode({ ...packet });
    await this.#commit.run(() => this.#sql.putWill.run(client.id, packet.brokerId ?? null, blob));
  }

  async getWill(client: SessionRef): Promise<StoredPacket | undefined> {
    const row = this.#sql.getWill.get(client.id) as { packet: Buffer } | undefined;
    return row ? decode(row.packet) : undefined;
  }

  async delWill(client: SessionRef): Promise<StoredPacket | undefined> {
    const will = await this.getWill(client);
    await this.#commit.run(() => this.#sql.deleteWill.run(client.id));
    return will;
  }

  streamWill(brokers: Record<string, number> = {}): Readable {
    const rows = this.#sql.allWills.all() as { broker_id: string | null; packet: Buffer }[];
    const orphaned = rows.filter((r) => !(r.broker_id !== null && brokers[r.broker_id]));
    return Readable.from(orphaned.map((r) => decode<StoredPacket>(r.packet)));
  }

  // ---- for the broker's status and admin ---------------------------------------------------

  /** Queued packets of one session (what `isaac-broker status` shows as its depth). */
  queueDepth(clientId: string): number {
    return this.#queueDepth.get(clientId) ?? 0;
  }

  stats(): PersistenceStats {
    return {
      queued: Object.fromEntries(this.#queueDepth),
      dropped: Object.fromEntries(this.#dropped),
      droppedTotal: this.#droppedTotal,
    };
  }

  /** Forgets everything of one session: subscriptions, queue, incoming packets, will (revoke). */
  async dropSession(clientId: string): Promise<number> {
    const queued = this.queueDepth(clientId);
    await this.cleanSubscriptions({ id: clientId });
    await this.#commit.run(() => {
      this.#sql.deleteQueueOf.run(clientId);
      this.#sql.deleteIncomingOf.run(clientId);
      this.#sql.deleteWill.run(clientId);
      this.#queueDepth.delete(clientId);
    }, true);
    const ids = this.#seqByMessageId.get(clientId);
    for (const seqs of ids?.values() ?? []) for (const seq of seqs) this.#messageIdOf.delete(seq);
    this.#seqByMessageId.delete(clientId);
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
