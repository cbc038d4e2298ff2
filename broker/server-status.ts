/**
 * What `isaac-broker status` reads: DATA/status.json, rewritten every second while the broker
 * runs (and once more, marked stopped, when it closes), and DATA/ports.json written at start.
 */
import { join } from 'node:path';
import type { Aedes, Client } from 'aedes';
import type { Counters, ListeningPorts, StatusSnapshot } from './counters.ts';
import type { ThrottleStatus } from './login-throttle.ts';
import type { AedesPersistence } from './queue-bound.ts';
import { writeJson } from './server-util.ts';

export const STATUS_FILE = 'status.json';
export const PORTS_FILE = 'ports.json';

export function writePortsFile(dataDir: string, ports: ListeningPorts): void {
  writeJson(join(dataDir, PORTS_FILE), { ...ports, pid: process.pid });
}

export function writeStatusFile(dataDir: string, status: StatusSnapshot & { stopped?: true }): void {
  writeJson(join(dataDir, STATUS_FILE), status);
}

/** The broker's status now: counters plus live machines and the queues the persistence holds. */
export function statusReader(deps: {
  aedes: Aedes;
  counters: Counters;
  persistence: AedesPersistence;
  ports: ListeningPorts;
  isMachine: (client: Client) => boolean;
  throttle?: () => ThrottleStatus;
}): () => StatusSnapshot {
  const { aedes, counters, persistence, ports, isMachine } = deps;
  return () => {
    const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
    counters.connected.clear();
    for (const [id, client] of Object.entries(clients)) if (isMachine(client)) counters.connected.add(id);
    const snapshot = counters.snapshot();
    // the persistence knows the queues of machines that have not logged in since a restart
    const persisted = persistence.stats?.().queued ?? {};
    // a connected machine's rows are in flight to it, not waiting: only offline machines have a queue
    const queueDepth = Object.fromEntries(
      Object.entries({
        ...Object.fromEntries(Object.entries(persisted).filter(([, n]) => n > 0)),
        ...snapshot.queueDepth,
      }).filter(([id]) => !counters.connected.has(id)),
    );
    return {
      ...snapshot,
      queueDepth,
      pid: process.pid,
      ports,
      ...(deps.throttle ? { throttle: deps.throttle() } : {}),
    };
  };
}
