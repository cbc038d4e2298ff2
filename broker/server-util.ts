import { renameSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Aedes, Client } from 'aedes';
import { topics } from '../schemas/topics.ts';

export function remoteOf(client: Client): string | undefined {
  const conn = client.conn as Partial<Socket> | undefined;
  return conn?.remoteAddress;
}

/** Best effort: a status file that cannot be written must not take the broker down. */
export function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(value)}\n`);
    renameSync(tmp, path);
  } catch {
    // the directory vanished or is read-only; `isaac-broker status` will report it stale
  }
}

/**
 * Publishes a revoked machine's roster entry (already verified against the network key) retained,
 * so every member, also one that joins later, stops trusting that machine.
 */
export function publishRevocation(aedes: Aedes, name: string, rosterEntry: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    aedes.publish(
      {
        cmd: 'publish',
        topic: topics.roster(name),
        payload: Buffer.from(rosterEntry),
        qos: 1,
        retain: true,
        dup: false,
      },
      (err) => (err ? reject(err) : resolve()),
    );
  });
}

/**
 * Removes what a revoked machine left retained for everyone to read: its status and its Home
 * Assistant discovery configs (an empty retained payload deletes a retained message, and makes
 * Home Assistant remove the entities). Only topics the machine itself was allowed to write.
 */
export async function clearRetainedOf(aedes: Aedes, name: string): Promise<string[]> {
  const patterns = [
    topics.status(name),
    `${topics.haPrefix}/+/${name}/+/config`,
    `${topics.haPrefix}/+/${name}/config`,
  ];
  const found: string[] = [];
  // Aedes' types leave its persistence untyped; ours (and aedes-persistence-redis) have this
  const { persistence } = aedes as unknown as {
    persistence: { createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string }> };
  };
  const stream = persistence.createRetainedStreamCombi(patterns);
  for await (const packet of stream) found.push(packet.topic);
  for (const topic of found) {
    await new Promise<void>((resolve, reject) => {
      aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.alloc(0), qos: 1, retain: true, dup: false },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  return found;
}
