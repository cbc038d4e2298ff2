/**
 * The per-session single packets of the SQLite persistence, which live only in SQLite: incoming
 * QoS 2 PUBLISHes awaiting their PUBREL, and last wills.
 */
import { Readable } from 'node:stream';
import type { GroupCommit } from './group-commit.ts';
import type { SessionRef, StoredPacket } from './interface.ts';
import { toPacket } from './qlobber.ts';
import { decode, encode, noSuchPacket } from './sqlite-codec.ts';
import type { Statements } from './sqlite-statements.ts';

export class IncomingPackets {
  constructor(
    private readonly sql: Statements,
    private readonly commit: GroupCommit,
  ) {}

  async store(client: SessionRef, packet: StoredPacket): Promise<void> {
    const stored = toPacket(packet);
    stored.messageId = packet.messageId;
    const blob = encode(stored);
    await this.commit.run(() => this.sql.putIncoming.run(client.id, packet.messageId, blob));
  }

  async get(client: SessionRef, packet: Pick<StoredPacket, 'messageId'>): Promise<StoredPacket> {
    const row = this.sql.getIncoming.get(client.id, packet.messageId ?? null) as
      | { packet: Buffer }
      | undefined;
    if (!row) throw noSuchPacket();
    return decode(row.packet);
  }

  async del(client: SessionRef, packet: Pick<StoredPacket, 'messageId'>): Promise<void> {
    const result = await this.commit.run(() =>
      this.sql.deleteIncoming.run(client.id, packet.messageId ?? null),
    );
    if (result.changes === 0) throw noSuchPacket();
  }

  async clean(client: SessionRef): Promise<void> {
    await this.commit.run(() => this.sql.deleteIncomingOf.run(client.id));
  }
}

export class Wills {
  constructor(
    private readonly sql: Statements,
    private readonly commit: GroupCommit,
    private readonly brokerId: () => string | undefined,
  ) {}

  async put(client: SessionRef, packet: StoredPacket): Promise<void> {
    packet.brokerId = this.brokerId();
    packet.clientId = client.id;
    const blob = encode({ ...packet });
    await this.commit.run(() => this.sql.putWill.run(client.id, packet.brokerId ?? null, blob));
  }

  async get(client: SessionRef): Promise<StoredPacket | undefined> {
    const row = this.sql.getWill.get(client.id) as { packet: Buffer } | undefined;
    return row ? decode(row.packet) : undefined;
  }

  async del(client: SessionRef): Promise<StoredPacket | undefined> {
    const will = await this.get(client);
    await this.commit.run(() => this.sql.deleteWill.run(client.id));
    return will;
  }

  stream(brokers: Record<string, number> = {}): Readable {
    const rows = this.sql.allWills.all() as { broker_id: string | null; packet: Buffer }[];
    const orphaned = rows.filter((r) => !(r.broker_id !== null && brokers[r.broker_id]));
    return Readable.from(orphaned.map((r) => decode<StoredPacket>(r.packet)));
  }
}
