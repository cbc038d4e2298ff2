/**
 * Closes the gap between Aedes' PUBACK and its persistence writes. Aedes 1.2 answers a QoS-1
 * PUBLISH with PUBACK first and only then stores the retained copy and the subscribers' queue
 * entries (lib/handlers/publish.js), so a crash in between would lose a message the publisher
 * already deleted. We journal the packet, committed, in authorizePublish, which Aedes runs before
 * the PUBACK; the queue insert later removes the journal row in the same transaction. Rows left
 * after a crash are published again on the next start.
 */
import { deserialize, serialize } from 'node:v8';
import type Database from 'better-sqlite3';
import type { AuthorizePublish, BrokerHandle, StoredPacket } from './interface.ts';
import type { Statements } from './sqlite-statements.ts';

interface Entry {
  id: number;
  settled: boolean;
}

type Done = (error?: Error | null) => void;

export class AckJournal {
  readonly #db: Database.Database;
  readonly #sql: Statements;
  // Aedes copies the incoming packet into a new Packet but keeps the same payload Buffer, which
  // is how the queue insert finds the journal row of the packet it stores.
  #byPayload = new WeakMap<object, Entry[]>();
  #byPacket = new WeakMap<object, Entry>();
  #pending = 0;
  #restore: (() => void) | undefined;

  constructor(db: Database.Database, sql: Statements) {
    this.#db = db;
    this.#sql = sql;
  }

  pending(): number {
    return this.#pending;
  }

  attach(broker: BrokerHandle): void {
    const authorize = broker.authorizePublish;
    const publish = broker.publish;
    if (!authorize) return;
    const journal = this;
    const wrappedAuthorize: AuthorizePublish = (client, packet, callback) => {
      authorize.call(broker, client, packet, (error) => {
        if (!error && client && packet.qos === 1) {
          try {
            journal.#record(packet);
          } catch (err) {
            // not durable, so not acknowledged: Aedes closes the connection and the sender retries
            callback(err as Error);
            return;
          }
        }
        callback(error);
      });
    };
    broker.authorizePublish = wrappedAuthorize;
    broker.publish = function publishThenSettle(packet: StoredPacket, ...rest: unknown[]) {
      const last = rest.length - 1;
      const done = rest[last];
      if (typeof done === 'function') {
        rest[last] = (error?: Error | null) => {
          // normally settled already by the queue insert; this covers a publish that enqueued
          // nothing at all (e.g. a wrapper filtered every subscriber out)
          if (!error) journal.#settleEntry(journal.#byPacket.get(packet));
          (done as Done)(error);
        };
      }
      publish.call(broker, packet, ...rest);
    };
    this.#restore = () => {
      broker.authorizePublish = authorize;
      broker.publish = publish;
    };
  }

  detach(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  #record(packet: StoredPacket): void {
    const payload = packet.payload;
    if (typeof payload !== 'object' || payload === null) return;
    const id = Number(this.#sql.journalAdd.run(serialize({ ...packet })).lastInsertRowid);
    this.#track(packet, payload, id);
  }

  #track(packet: StoredPacket, payload: object, id: number): void {
    const entry = { id, settled: false };
    const list = this.#byPayload.get(payload);
    if (list) list.push(entry);
    else this.#byPayload.set(payload, [entry]);
    this.#byPacket.set(packet, entry);
    this.#pending++;
  }

  #settleEntry(entry: Entry | undefined): void {
    if (!entry || entry.settled) return;
    entry.settled = true;
    this.#pending--;
    this.#sql.journalDelete.run(entry.id);
  }

  /** Called inside the queue-insert transaction with the Packet Aedes is storing. */
  settle(packet: StoredPacket): void {
    const payload = packet.payload;
    if (typeof payload !== 'object' || payload === null) return;
    const list = this.#byPayload.get(payload);
    if (!list) return;
    let entry = list.shift();
    while (entry?.settled) entry = list.shift();
    if (list.length === 0) this.#byPayload.delete(payload);
    this.#settleEntry(entry);
  }

  /** Publishes, in order, what was acknowledged but not yet queued when the broker last stopped. */
  async replay(broker: BrokerHandle): Promise<number> {
    const rows = this.#sql.journalAll.all() as { id: number; packet: Buffer }[];
    for (const row of rows) {
      const packet = deserialize(row.packet) as StoredPacket;
      if (typeof packet.payload === 'object' && packet.payload !== null) {
        this.#track(packet, packet.payload, row.id);
      }
      const error = await new Promise<Error | null | undefined>((resolve) => broker.publish(packet, resolve));
      // a packet Aedes now refuses outright would otherwise be replayed on every start
      if (error) this.#db.transaction(() => this.#settleEntry(this.#byPacket.get(packet)))();
    }
    return rows.length;
  }
}
