import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import type { IClientOptions } from 'mqtt';
import nacl from 'tweetnacl';
import { initDataDir } from '../../broker/init.ts';
import { loadIdentity } from '../../node/core/crypto/keys.ts';
import { mqttConnectOptions } from '../../node/core/crypto/mqtt-options.ts';
import { loadNetworkSettings } from '../../node/core/identity/settings.ts';
import { openStore, type Store } from '../../node/core/store/store.ts';
import { connectNode, type NodeClient } from '../../node/ipc/client.ts';
import { createInvite } from '../../node/shell/identity/membership.ts';
import { startTestBroker, type TestBroker, type TestBrokerOptions } from './broker.ts';
import { tempDir, waitFor } from './tmp.ts';

/**
 * Several machines as separate `isaac-node` processes with their own ISAAC_HOME, in a network
 * created through the real `isaac-node init` / `join` commands against a real isaac-broker.
 */
const REPO = resolve(import.meta.dirname, '../..');
const NODE_BIN = join(REPO, 'node/cli/isaac-node.mjs');
type Ctx = Pick<TestContext, 'after'>;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runNodeCli(home: string, args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [NODE_BIN, ...args], {
      env: { ...process.env, ISAAC_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

export interface NodeProc {
  home: string;
  child: ChildProcess;
  log(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Network {
  broker: TestBroker;
  homes: Record<string, string>;
  root: string;
}

/**
 * A real broker (in-process unless told otherwise) and `names` joined to one network.
 * `beforeJoin` runs in each machine's home just before its `isaac-node init` or `join`.
 */
export async function createNetwork(
  t: Ctx,
  names: string[],
  brokerOptions: TestBrokerOptions = {},
  beforeJoin?: (name: string, home: string) => Promise<void>,
): Promise<Network> {
  const root = tempDir(t, 'isaac-net-');
  const dataDir = join(root, 'broker-data');
  const { setupToken } = initDataDir(dataDir);
  const broker = await startTestBroker(t, {
    ...brokerOptions,
    reuse: { dataDir, networkKeys: nacl.sign.keyPair(), secrets: new Map() },
  });
  const homes: Record<string, string> = {};
  const [first, ...rest] = names;
  if (!first) throw new Error('no machines');
  homes[first] = join(root, first);
  await beforeJoin?.(first, homes[first]);
  const init = await runNodeCli(homes[first], [
    'init',
    '--broker',
    broker.tlsUrl,
    '--fingerprint',
    broker.fingerprint,
    '--setup-token',
    setupToken,
    '--name',
    first,
  ]);
  if (init.code !== 0) throw new Error(`isaac-node init failed: ${init.stderr}`);
  for (const name of rest) {
    homes[name] = join(root, name);
    await beforeJoin?.(name, homes[name]);
    const code = createInvite(homes[first], name);
    const joined = await runNodeCli(homes[name], ['join', code]);
    if (joined.code !== 0) throw new Error(`isaac-node join failed: ${joined.stderr}`);
  }
  return { broker, homes, root };
}

/** Starts `isaac-node start` for `home`; waits until it is connected. Killed in t.after. */
export async function startNodeProc(
  t: Ctx,
  home: string,
  options: { waitConnected?: boolean; env?: NodeJS.ProcessEnv; connectTimeoutMs?: number } = {},
): Promise<NodeProc> {
  const child = spawn(process.execPath, [NODE_BIN, 'start'], {
    env: { ...process.env, ...options.env, ISAAC_HOME: home },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  t.after(() => kill('SIGKILL'));
  if (options.waitConnected !== false) {
    await waitFor(
      () => /connected to /.test(log) || child.exitCode !== null,
      `isaac-node in ${home} to connect`,
      options.connectTimeoutMs ?? 60_000,
    );
    if (child.exitCode !== null) throw new Error(`isaac-node exited: ${log}`);
  }
  return { home, child, log: () => log, kill };
}

/** A local-shell client for `home`'s node; closed in t.after. */
export async function clientFor(t: Ctx, home: string): Promise<NodeClient> {
  const client = await waitFor(() => connectNode(home), `socket of ${home}`);
  if (!client) throw new Error(`no isaac-node socket in ${home}`);
  t.after(() => client.close());
  return client;
}

/** Reads `home`'s store briefly (WAL lets this run beside the daemon). */
export function withStore<T>(home: string, fn: (store: Store) => T): T {
  const store = openStore(home);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** Waits until every node in `homes` sees every other one online. */
export async function waitAllOnline(homes: readonly string[], names: readonly string[]): Promise<void> {
  for (const home of homes) {
    await waitFor(
      () =>
        withStore(home, (s) =>
          names.every((n) => s.machines.get(n)?.status === 'online' && s.machines.get(n)?.box_pk),
        ),
      `all machines online as seen from ${home}`,
      60_000,
    );
  }
}

/** The MQTT login of the machine set up in `home` (its name, login secret and broker pin), as isaac-node makes it. */
export function machineLogin(home: string, url: string): { name: string; options: IClientOptions } {
  const settings = withStore(home, loadNetworkSettings);
  if (!settings) throw new Error(`${home} has no network settings`);
  const options = mqttConnectOptions({
    url,
    name: settings.name,
    secret: loadIdentity(home).loginSecret,
    fingerprint: settings.fingerprint,
    certPem: settings.certPem,
  });
  return { name: settings.name, options };
}
