import type { Logger } from 'pino';
import type { Counters } from './counters.ts';

/**
 * The parts of an Aedes (1.x, promise-style) persistence the broker itself calls. Any persistence
 * passing the aedes-persistence abstract suite has them.
 */
export interface AedesPersistence {
  setup(broker: unknown): Promise<void>;
  outgoingEnqueue(sub: { clientId: string }, packet: QueuedPacket): Promise<unknown>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: QueuedPacket): Promise<unknown>;
  outgoingUpdate(client: { id: string }, packet: QueuedPacket): Promise<unknown>;
  outgoingClearMessageId(client: { id: string }, packet: QueuedPacket): Promise<unknown>;
  outgoingStream(client: { id: string }): AsyncIterable<QueuedPacket>;
  cleanSubscriptions(client: { id: string }): Promise<unknown>;
  destroy?(): Promise<unknown> | undefined;
  /** Optional: the persisted queue length, used to seed the in-memory count after a restart. */
  queueDepth?(clientId: string): number | Promise<number>;
  /** Optional: persisted queue lengths of all sessions (status after a restart). */
  stats?(): { queued: Record<string, number> };
  /** Optional: forget a session's subscriptions, queue, incoming packets and will at once. */
  dropSession?(clientId: string): Promise<number>;
}

export interface QueuedPacket {
  topic: string;
  messageId?: number;
  brokerId?: string;
  brokerCounter?: number;
  [key: string]: unknown;
}

/**
 * Bounds each persistent session's offline queue by wrapping the persistence's enqueue and ack
 * paths on the instance: a subscriber whose queue is full does not get the message, and that is
 * logged and counted, never silent. Counts are kept in memory and seeded from `queueDepth` when
 * the persistence offers it.
 */
export function boundQueues(
  persistence: AedesPersistence,
  maxQueued: number,
  counters: Counters,
  log: Logger,
): { seed(clientId: string): Promise<void>; drop(clientId: string): Promise<number> } {
  const depth = counters.queueDepth;
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  const enqueueOne = persistence.outgoingEnqueue.bind(persistence);
  const clear = persistence.outgoingClearMessageId.bind(persistence);
  const lastFullLog = new Map<string, number>();

  function current(clientId: string): number {
    const known = depth.get(clientId);
    if (known !== undefined) return known;
    // after a restart, learn the persisted depth of a session the first time it is touched
    const persisted = persistence.queueDepth?.(clientId);
    return typeof persisted === 'number' ? persisted : 0;
  }

  function admit(clientId: string, topic: string): boolean {
    const n = current(clientId);
    if (n < maxQueued) {
      depth.set(clientId, n + 1);
      return true;
    }
    counters.refuse('queue-full');
    counters.dropped++;
    const now = Date.now();
    // one line per full queue per 10 s, with the count of drops in between, so a flood cannot flood the log
    if ((lastFullLog.get(clientId) ?? 0) + 10_000 < now) {
      lastFullLog.set(clientId, now);
      log.warn(
        { machine: clientId, topic, maxQueued, reason: 'queue-full' },
        'offline queue full: message dropped',
      );
    }
    return false;
  }

  persistence.outgoingEnqueueCombi = async (subs, packet) => {
    const kept = subs.filter((s) => admit(s.clientId, packet.topic));
    if (kept.length > 0) await enqueueCombi(kept, packet);
  };
  persistence.outgoingEnqueue = async (sub, packet) => {
    if (admit(sub.clientId, packet.topic)) await enqueueOne(sub, packet);
  };
  persistence.outgoingClearMessageId = async (client, packet) => {
    const removed = await clear(client, packet);
    if (removed) {
      const n = current(client.id);
      if (n > 1) depth.set(client.id, n - 1);
      else depth.delete(client.id);
    }
    return removed;
  };

  return {
    async seed(clientId) {
      if (!persistence.queueDepth || depth.has(clientId)) return;
      depth.set(clientId, await persistence.queueDepth(clientId));
    },
    /** Forgets a session's subscriptions and queued messages (used on revoke). */
    async drop(clientId) {
      if (persistence.dropSession) {
        const dropped = await persistence.dropSession(clientId);
        depth.delete(clientId);
        return dropped;
      }
      const client = { id: clientId };
      await persistence.cleanSubscriptions(client);
      const queued: QueuedPacket[] = [];
      for await (const packet of persistence.outgoingStream(client)) queued.push(packet);
      let messageId = 0;
      for (const packet of queued) {
        // give each packet a message id so the generic ack path can remove it
        const numbered = { ...packet, messageId: (messageId++ % 65535) + 1 };
        await persistence.outgoingUpdate(client, numbered).catch(() => undefined);
        await clear(client, numbered).catch(() => undefined);
      }
      depth.delete(clientId);
      return queued.length;
    },
  };
}
