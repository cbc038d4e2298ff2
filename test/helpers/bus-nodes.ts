import { createServer, type Server } from 'node:net';
import type { TestContext } from 'node:test';
import { Aedes } from 'aedes';
import nacl from 'tweetnacl';
import { openStore, type Store } from '../../node/core/store/store.ts';
import { EnvelopeCodec } from '../../node/daemon/bus/codec.ts';
import { composeDaemon } from '../../node/daemon/compose.ts';
import type { NodeDaemon } from '../../node/daemon/daemon.ts';
import type { Extensions } from '../../node/daemon/extensions.ts';
import type { HistorySync } from '../../node/daemon/sync/engine.ts';
import type { BoxKeyPair } from '../../schemas/sealedbox.ts';
import { captureLogger } from './log-capture.ts';
import { freePort, tempDir } from './tmp.ts';

/**
 * In-process nodes for the bus tests: a real Aedes broker on an ephemeral port, real MQTT
 * clients, real SQLite stores in temp homes. Every member's keys are seeded into every store's
 * `machines` table as a verified roster would leave them.
 */
export interface MachineKeys {
  name: string;
  sign: nacl.SignKeyPair;
  box: BoxKeyPair;
}

export function makeKeys(name: string): MachineKeys {
  return { name, sign: nacl.sign.keyPair(), box: nacl.box.keyPair() };
}

/** Nodes still running; a broker's teardown stops them first so they do not chase it. */
const liveNodes = new Set<() => Promise<void>>();

export async function startPlainBroker(
  t: Pick<TestContext, 'after'>,
): Promise<{ url: string; port: number; aedes: Aedes; server: Server }> {
  const aedes = await Aedes.createBroker();
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    aedes.handle(socket);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(async () => {
    await Promise.all([...liveNodes].map((stop) => stop()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `mqtt://127.0.0.1:${port}`, port, aedes, server };
}

export function seedRoster(store: Store, members: readonly MachineKeys[]): void {
  for (const m of members) {
    store.machines.applyRoster({ name: m.name, signPk: m.sign.publicKey, boxPk: m.box.publicKey, added: 1 });
  }
}

/** A store in `home` named as `keys`, every member in its roster, and the codec that seals as it. */
export function memberStore(
  home: string,
  keys: MachineKeys,
  members: readonly MachineKeys[],
): { store: Store; codec: EnvelopeCodec } {
  const store = openStore(home);
  store.config.set('machine.name', keys.name);
  seedRoster(store, members);
  const codec = new EnvelopeCodec(identityOf(keys), store.machines);
  return { store, codec };
}

export interface TestNode {
  name: string;
  home: string;
  store: Store;
  daemon: NodeDaemon;
  sync: HistorySync;
  extensions: Extensions;
  logs: string[];
  stop(): Promise<void>;
}

/**
 * isaac-node as `isaac-node start` builds it (composeDaemon), on a seeded store: only the login
 * (any password for the plain test broker) and the logger differ.
 */
export async function startTestNode(
  t: Pick<TestContext, 'after'>,
  keys: MachineKeys,
  members: readonly MachineKeys[],
  urls: readonly string[],
  options: { home?: string; version?: string; config?: Record<string, string> } = {},
): Promise<TestNode> {
  const home = options.home ?? tempDir(t);
  const { store } = memberStore(home, keys, members);
  for (const [key, value] of Object.entries(options.config ?? {})) store.config.set(key, value);
  const { logger, lines: logs } = captureLogger();
  const node = await composeDaemon({
    store,
    identity: identityOf(keys),
    urls,
    connectOptions: () => ({ username: keys.name, password: 'test' }),
    version: options.version ?? 'test',
    logger,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await node.stop();
    store.close();
    liveNodes.delete(stop);
  };
  liveNodes.add(stop);
  t.after(stop);
  return {
    name: keys.name,
    home,
    store,
    daemon: node.daemon,
    sync: node.sync,
    extensions: node.extensions,
    logs,
    stop,
  };
}

export function identityOf(keys: MachineKeys): {
  me: string;
  signSecretKey: Uint8Array;
  boxKeyPair: BoxKeyPair;
} {
  return { me: keys.name, signSecretKey: keys.sign.secretKey, boxKeyPair: keys.box };
}

/** Registers a node's stop with the broker teardown (nodes stop before the broker they talk to). */
export function stopWithBroker(stop: () => Promise<void>): () => void {
  liveNodes.add(stop);
  return () => liveNodes.delete(stop);
}
