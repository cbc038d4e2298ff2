/**
 * The persistence contract Aedes 1.2 calls (aedes-persistence 11, promise style), typed for our
 * code. Packets are plain objects: Aedes hands us aedes-packet `Packet`s and raw PUBREL packets.
 */
import type { Readable } from 'node:stream';

export interface StoredPacket {
  cmd?: string;
  topic?: string;
  payload?: Buffer | string;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  messageId?: number;
  brokerId?: string;
  brokerCounter?: number;
  clientId?: string;
  [key: string]: unknown;
}

export interface SessionRef {
  id: string;
  brokerId?: string;
}

export interface SubscriptionRecord {
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
}

export interface TopicSubscription {
  clientId: string;
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
}

export type AuthorizePublish = (
  client: SessionRef | null,
  packet: StoredPacket,
  callback: (error?: Error | null) => void,
) => void;

/** The slice of an Aedes instance a persistence touches. */
export interface BrokerHandle {
  id: string;
  counter: number;
  publish(packet: StoredPacket, ...rest: unknown[]): void;
  authorizePublish?: AuthorizePublish;
}

export interface AedesAsyncPersistence {
  setup(broker: BrokerHandle): Promise<void>;
  storeRetained(packet: StoredPacket): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
  addSubscriptions(client: SessionRef, subs: SubscriptionRecord[]): Promise<void>;
  removeSubscriptions(client: SessionRef, topics: string[]): Promise<void>;
  subscriptionsByClient(client: SessionRef): Promise<SubscriptionRecord[]>;
  countOffline(): Promise<{ subsCount: number; clientsCount: number }>;
  subscriptionsByTopic(topic: string): Promise<TopicSubscription[]>;
  cleanSubscriptions(client: SessionRef): Promise<void>;
  outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: StoredPacket): Promise<void>;
  outgoingUpdate(client: SessionRef, packet: StoredPacket): Promise<void>;
  outgoingClearMessageId(client: SessionRef, packet: StoredPacket): Promise<StoredPacket | undefined>;
  outgoingStream(client: SessionRef): Readable;
  incomingStorePacket(client: SessionRef, packet: StoredPacket): Promise<void>;
  incomingGetPacket(client: SessionRef, packet: Pick<StoredPacket, 'messageId'>): Promise<StoredPacket>;
  incomingDelPacket(client: SessionRef, packet: Pick<StoredPacket, 'messageId'>): Promise<void>;
  cleanIncoming(client: SessionRef): Promise<void>;
  putWill(client: SessionRef, packet: StoredPacket): Promise<void>;
  getWill(client: SessionRef): Promise<StoredPacket | undefined>;
  delWill(client: SessionRef): Promise<StoredPacket | undefined>;
  streamWill(brokers?: Record<string, number>): Readable;
  getClientList(topic: string): Readable;
  destroy(): Promise<void>;
}
