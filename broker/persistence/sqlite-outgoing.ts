/**
 * The outgoing (offline) queues of the SQLite persistence: packets waiting for a persistent
 * session, bounded per session, with the message ids they are in flight under kept in memory.
 */
import { Readable } from 'node:stream';
import type { GroupCommit } from './group-commit.ts';
import type { SessionRef, StoredPacket } from './interface.ts';
import { toPacket } from './qlobber.ts';
import { decode, encode, noSuchPacket } from './sqlite-codec.ts';
import type { Statements } from './sqlite-statements.ts';

export interface QueueFullEvent {
  clientId: string;
  topic: string | undefined;
  queued: number;
  dropped: number;
}

export interface PersistenceStats {
  queued: Record<string, number>;
  dropped: Record<string, number>;
  droppedTotal: number;
}

export interface QueueOptions {
  maxQueued: number;
  onQueueFull?: (event: QueueFullEvent) => void;
  logger?: { warn(obj: object, msg: string): void };
}

const STREAM_PAGE = 64;
const FULL_LOG_INTERVAL_MS = 10_000;

type QueuedRow = { seq: number; message_id: number | null; packet: Buffer };

export class OutgoingQueues {
  // Message ids name packets only within one connection, so they live in memory: seq -> id and
  // per session id -> seq. After a restart Aedes numbers every queued packet afresh anyway.
  readonly #messageIdOf = new Map<number, number>();
  readonly #seqByMessageId = new Map<string, Map<number, Set<number>>>();
  readonly #queueDepth = new Map<string, number>();
  readonly #dropped = new Map<string, number>();
  readonly #lastFullLog = new Map<string, number>();
  #droppedTotal = 0;

  constructor(
    private readonly sql: Statements,
    private readonly commit: GroupCommit,
    private readonly options: QueueOptions,
  ) {}

  load(): void {
    this.#queueDepth.clear();
    for (const row of this.sql.queueDepths.all() as { client_id: string; n: number }[]) {
      this.#queueDepth.set(row.client_id, row.n);
    }
    this.#messageIdOf.clear();
    this.#seqByMessageId.clear();
    for (const row of this.sql.storedMessageIds.all() as {
      seq: number;
      client_id: string;
      message_id: number;
    }[]) {
      this.#assign(row.client_id, row.seq, row.message_id);
    }
  }

  /** Inserts one queued packet unless the session's queue is full; returns whether it did. */
  #enqueueOne(clientId: string, packet: StoredPacket, blob: Buffer): boolean {
    const depth = this.#queueDepth.get(clientId) ?? 0;
    if (depth >= this.options.maxQueued) {
      this.#refuse(clientId, packet.topic, depth);
      return false;
    }
    this.sql.enqueue.run(
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
      if (this.options.logger) this.options.logger.warn(fields, 'offline queue full: message not queued');
      else
        process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'offline queue full', ...fields })}\n`);
    }
    this.options.onQueueFull?.({ clientId, topic, queued, dropped });
  }

  async enqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    const queued = toPacket(packet);
    await this.commit.run(() => this.#enqueueOne(sub.clientId, queued, encode(queued)));
  }

  async enqueueCombi(subs: { clientId: string }[], packet: StoredPacket): Promise<void> {
    const queued = toPacket(packet);
    const blob = encode(queued);
    await this.commit.run(() => {
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

  #readQueued(row: QueuedRow): StoredPacket {
    const packet = decode<StoredPacket>(row.packet);
    const messageId = this.#messageIdOf.get(row.seq) ?? row.message_id;
    if (messageId !== null) packet.messageId = messageId;
    return packet;
  }

  async update(client: SessionRef, packet: StoredPacket): Promise<void> {
    const brokerId = packet.brokerId ?? null;
    const messageId = typeof packet.messageId === 'number' ? packet.messageId : null;
    // the packet's own row by brokerId+brokerCounter: only its message id changes (kept in memory)
    if (brokerId !== null) {
      const own = this.sql.findByCounter.get(client.id, brokerId, packet.brokerCounter ?? null) as
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
    await this.commit.run(() =>
      this.sql.replaceQueued.run(brokerId, packet.brokerCounter ?? null, messageId, replacement, seq),
    );
    this.#assign(client.id, seq, messageId);
  }

  async clearMessageId(client: SessionRef, packet: StoredPacket): Promise<StoredPacket | undefined> {
    if (typeof packet?.messageId !== 'number') return undefined;
    const seq = this.#seqOf(client.id, packet.messageId);
    if (seq === undefined) return undefined;
    const row = this.sql.getQueued.get(seq) as QueuedRow | undefined;
    if (!row) {
      this.#assign(client.id, seq, null);
      return undefined;
    }
    const cleared = this.#readQueued(row);
    await this.commit.run(() => {
      this.sql.deleteQueued.run(seq);
      this.#assign(client.id, seq, null);
      const depth = this.#queueDepth.get(client.id) ?? 1;
      if (depth > 1) this.#queueDepth.set(client.id, depth - 1);
      else this.#queueDepth.delete(client.id);
    });
    return cleared;
  }

  stream(client: SessionRef): Readable {
    // bounded by the queue as it is now, like the reference's snapshot: packets enqueued later
    // reach an online client live, not through this stream
    const last = (this.sql.lastSeqOf.get(client.id) as { m: number | null }).m ?? 0;
    const sql = this.sql;
    const read = (row: QueuedRow) => this.#readQueued(row);
    function* pages(): Generator<StoredPacket> {
      let after = 0;
      for (;;) {
        const rows = sql.queuePage.all(client.id, after, last, STREAM_PAGE) as QueuedRow[];
        if (rows.length === 0) return;
        for (const row of rows) {
          after = row.seq;
          yield read(row);
        }
      }
    }
    return Readable.from(pages());
  }

  depth(clientId: string): number {
    return this.#queueDepth.get(clientId) ?? 0;
  }

  stats(): PersistenceStats {
    return {
      queued: Object.fromEntries(this.#queueDepth),
      dropped: Object.fromEntries(this.#dropped),
      droppedTotal: this.#droppedTotal,
    };
  }

  /** Deletes the session's queue in one transaction with whatever else `alongside` deletes. */
  async drop(clientId: string, alongside: () => void): Promise<void> {
    await this.commit.run(() => {
      this.sql.deleteQueueOf.run(clientId);
      alongside();
      this.#queueDepth.delete(clientId);
    }, true);
    const ids = this.#seqByMessageId.get(clientId);
    for (const seqs of ids?.values() ?? []) for (const seq of seqs) this.#messageIdOf.delete(seq);
    this.#seqByMessageId.delete(clientId);
  }
}
