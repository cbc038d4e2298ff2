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
