import { createServer, type Server } from 'node:net';
import type { TestContext } from 'node:test';
import { Aedes } from 'aedes';
import nacl from 'tweetnacl';
import { paths } from '../../node/core/paths.ts';
import { openStore, type Store } from '../../node/core/store/store.ts';
import { EnvelopeCodec } from '../../node/daemon/bus/codec.ts';
import { NodeDaemon } from '../../node/daemon/daemon.ts';
import { serveIpc } from '../../node/daemon/ipc/server.ts';
import type { BoxKeyPair } from '../../schemas/sealedbox.ts';
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
  const codec = new EnvelopeCodec(
    { me: keys.name, signSecretKey: keys.sign.secretKey, boxKeyPair: keys.box },
    store.machines,
  );
  return { store, codec };
}

export interface TestNode {
  name: string;
  home: string;
  store: Store;
  daemon: NodeDaemon;
  logs: string[];
  stop(): Promise<void>;
}

export async function startTestNode(
  t: Pick<TestContext, 'after'>,
  keys: MachineKeys,
  members: readonly MachineKeys[],
  urls: readonly string[],
  options: {
    home?: string;
    classify?: (line: string) => { tier: number; reason: string };
    discovery?: () => { topic: string; payload: string }[];
  } = {},
): Promise<TestNode> {
  const home = options.home ?? tempDir(t);
  const { store, codec } = memberStore(home, keys, members);
  const logs: string[] = [];
  const daemon = new NodeDaemon({
    store,
    codec,
    urls,
    connectOptions: () => ({ username: keys.name, password: 'test' }),
    classify: options.classify ?? (() => ({ tier: 1, reason: 'test' })),
    version: 'test',
    log: (line) => logs.push(line),
    ...(options.discovery ? { discovery: options.discovery } : {}),
  });
  const server = await serveIpc(daemon, paths.nodeSocket(home), (line) => logs.push(line));
  daemon.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await daemon.stop();
    await server.close();
    store.close();
    liveNodes.delete(stop);
  };
  liveNodes.add(stop);
  t.after(stop);
  return { name: keys.name, home, store, daemon, logs, stop };
}
