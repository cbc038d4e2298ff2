/**
 * Retained messages and subscriptions of the SQLite persistence: every write goes to SQLite through
 * the group commit, and both are mirrored in memory so matching never reads the database.
 */
import { Readable } from 'node:stream';
import type { GroupCommit } from './group-commit.ts';
import type { SessionRef, StoredPacket, SubscriptionRecord, TopicSubscription } from './interface.ts';
import { patternSet, type SubscriptionTrie, subscriptionTrie } from './qlobber.ts';
import { decode, encode, type StoredRecord } from './sqlite-codec.ts';
import type { Statements } from './sqlite-statements.ts';

export class RetainedMessages {
  readonly #retained = new Map<string, StoredPacket>();

  constructor(
    private readonly sql: Statements,
    private readonly commit: GroupCommit,
  ) {}

  load(): void {
    this.#retained.clear();
    for (const row of this.sql.allRetained.all() as { topic: string; packet: Buffer }[]) {
      this.#retained.set(row.topic, decode(row.packet));
    }
  }

  async store(pkt: StoredPacket): Promise<void> {
    const packet = { ...pkt };
    const empty = packet.payload === undefined || packet.payload.length === 0;
    await this.commit.run(() => {
      if (empty) {
        this.sql.deleteRetained.run(packet.topic);
        this.#retained.delete(packet.topic ?? '');
      } else {
        this.sql.putRetained.run(packet.topic, encode(packet));
        this.#retained.set(packet.topic ?? '', packet);
      }
    });
  }

  stream(patterns: string[]): Readable {
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
}

export class Subscriptions {
  #trie: SubscriptionTrie = subscriptionTrie();
  readonly #subscriptions = new Map<string, Map<string, StoredRecord>>();

  constructor(
    private readonly sql: Statements,
    private readonly commit: GroupCommit,
  ) {}

  load(): void {
    this.#trie = subscriptionTrie();
    this.#subscriptions.clear();
    for (const row of this.sql.allSubscriptions.all() as {
      client_id: string;
      topic: string;
      record: Buffer;
    }[]) {
      this.#addToMemory(row.client_id, row.topic, decode<StoredRecord>(row.record));
    }
  }

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

  async add(client: SessionRef, subs: SubscriptionRecord[]): Promise<void> {
    await this.commit.run(() => {
      for (const sub of subs) {
        const record: StoredRecord = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl };
        if (sub.subscriptionIdentifier !== undefined)
          record.subscriptionIdentifier = sub.subscriptionIdentifier;
        this.sql.putSubscription.run(client.id, sub.topic, encode(record));
        this.#addToMemory(client.id, sub.topic, record);
      }
    }, subs.length > 1);
  }

  async remove(client: SessionRef, topics: string[]): Promise<void> {
    const stored = this.#subscriptions.get(client.id);
    if (!stored) return;
    await this.commit.run(() => {
      for (const topic of topics) {
        const record = stored.get(topic);
        if (record === undefined) continue;
        if (record.qos > 0) this.#trie.remove(topic, { clientId: client.id, topic });
        stored.delete(topic);
        this.sql.deleteSubscription.run(client.id, topic);
      }
      if (stored.size === 0) this.#subscriptions.delete(client.id);
    }, topics.length > 1);
  }

  byClient(client: SessionRef): SubscriptionRecord[] {
    const stored = this.#subscriptions.get(client.id);
    if (!stored) return [];
    return [...stored].map(([topic, record]) => ({ topic, ...record }));
  }

  countOffline(): { subsCount: number; clientsCount: number } {
    return { subsCount: this.#trie.subscriptionsCount, clientsCount: this.#subscriptions.size };
  }

  byTopic(topic: string): TopicSubscription[] {
    return this.#trie.match(topic);
  }

  async clean(client: SessionRef): Promise<void> {
    const stored = this.#subscriptions.get(client.id);
    if (!stored) return;
    for (const [topic, record] of stored) {
      if (record.qos > 0) this.#trie.remove(topic, { clientId: client.id, topic });
    }
    this.#subscriptions.delete(client.id);
    await this.commit.run(() => this.sql.deleteSubscriptionsOf.run(client.id));
  }

  clientList(topic: string): Readable {
    const clients = [...this.#subscriptions].filter(([, topics]) => topics.has(topic)).map(([id]) => id);
    return Readable.from(clients);
  }
}
