/**
 * Broker figures (issue 3), isaac-broker against a Mosquitto measured in the same run:
 * - QoS-1 throughput, 1 KiB and 64 KiB payloads: the real `isaac-broker start` (TLS listener
 *   up, token auth, ACL, SQLite persistence, subscriber with a persistent session) vs our own
 *   mosquitto process (ephemeral port, `persistence true`, same clients, same window).
 * - Offline drain: a machine reconnecting to 10,000 queued messages.
 * - Memory: broker RSS with 200 connected idle machines.
 * Run: node --import tsx test/bench/broker.bench.ts   (ROUNDS=3 by default; medians printed)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { freePort, waitFor } from '../helpers/tmp.ts';
import { fmt, median } from './stats.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const WINDOW = Number(process.env.WINDOW ?? 64); // QoS-1 messages in flight per publisher
const SIZES = [
  { label: '1 KiB', bytes: 1024, count: 8000 },
  { label: '64 KiB', bytes: 64 * 1024, count: 1000 },
];
const DRAIN = 10_000;
const IDLE_CLIENTS = 200;
const QUEUE_LIMIT = 20_000;

interface Target {
  name: string;
  pid: number;
  /** Options for machine `name` (auth where the broker wants it). */
  options(name: string): IClientOptions;
  inbox(name: string): string;
  stop(): Promise<void>;
}

const cleanups: (() => unknown)[] = [];
const fakeT = { after: (fn: () => unknown) => cleanups.push(fn) };

async function isaacTarget(machines: string[]): Promise<Target> {
  const limits = { publishRate: 1_000_000, publishBurst: 1_000_000, maxQueued: QUEUE_LIMIT };
  const enrolled = await startTestBroker(fakeT, { process: true, machines, limits });
  await enrolled.stop();
  // measured on a restart, as a NAS runs it: enrolling 200 machines is a one-off whose garbage
  // (signature checks) would otherwise sit in the heap we measure
  const broker: TestBroker = await startTestBroker(fakeT, {
    process: true,
    limits,
    reuse: { dataDir: enrolled.dataDir, networkKeys: enrolled.networkKeys, secrets: enrolled.secrets },
  });
  return {
    name: 'isaac-broker',
    pid: broker.child?.pid ?? 0,
    options: (name) => ({
      host: '127.0.0.1',
      port: broker.ports.tcp ?? 0,
      clientId: name,
      username: name,
      password: broker.token(name),
    }),
    inbox: (name) => `isaac/${name}/msg`,
    stop: () => broker.stop(),
  };
}

async function mosquittoTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'isaac-bench-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      `max_queued_messages ${QUEUE_LIMIT}`,
      'log_type none',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  const probe = async () => {
    try {
      const c = await mqtt.connectAsync({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 500 });
      await c.endAsync();
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(probe, 'mosquitto listening', 10_000);
  return {
    name: 'mosquitto',
    pid: child.pid ?? 0,
    options: (name) => ({ host: '127.0.0.1', port, clientId: name }),
    inbox: (name) => `isaac/${name}/msg`,
    stop,
  };
}

async function connect(target: Target, name: string, extra: IClientOptions = {}): Promise<MqttClient> {
  return await mqtt.connectAsync({
    ...target.options(name),
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...extra,
  });
}

/** Publishes `count` QoS-1 messages keeping WINDOW unacknowledged; resolves when all are acked. */
function publishWindowed(client: MqttClient, topic: string, payload: Buffer, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const pump = () => {
      while (sent < count && sent - acked < WINDOW) {
        sent++;
        client.publish(topic, payload, { qos: 1 }, (err) => {
          if (err) return reject(err);
          if (++acked === count) resolve();
          else pump();
        });
      }
    };
    pump();
  });
}

/** Messages/s from first publish until the subscriber holds them all. */
async function throughput(target: Target, bytes: number, count: number): Promise<number> {
  const sub = await connect(target, 'b');
  await sub.subscribeAsync(target.inbox('b'), { qos: 1 });
  const pub = await connect(target, 'a', { clean: true });
  let received = 0;
  sub.on('message', () => received++);
  const payload = randomBytes(bytes);
  const start = process.hrtime.bigint();
  await publishWindowed(pub, target.inbox('b'), payload, count);
  await waitFor(() => received >= count, `${count} messages at ${target.name}`, 120_000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await pub.endAsync();
  await sub.endAsync();
  return count / seconds;
}

/** Seconds for a reconnecting machine to receive DRAIN messages queued while it was away. */
async function drain(target: Target): Promise<number> {
  const sub = await connect(target, 'd');
  await sub.subscribeAsync(target.inbox('d'), { qos: 1 });
  await sub.endAsync();
  const pub = await connect(target, 'a', { clean: true });
  await publishWindowed(pub, target.inbox('d'), randomBytes(1024), DRAIN);
  await pub.endAsync();
  let received = 0;
  const start = process.hrtime.bigint();
  const back = mqtt.connect({ ...target.options('d'), clean: false, protocolVersion: 4, reconnectPeriod: 0 });
  back.on('message', () => received++);
  await waitFor(() => received >= DRAIN, `drain at ${target.name}`, 300_000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await back.endAsync();
  return seconds;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function idleMemory(target: Target, names: string[]): Promise<{ before: number; after: number }> {
  const before = rssMiB(target.pid);
  const clients: MqttClient[] = [];
  for (const name of names) {
    const c = await connect(target, name, { keepalive: 60 });
    await c.subscribeAsync(target.inbox(name), { qos: 1 });
    clients.push(c);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssMiB(target.pid);
  await Promise.all(clients.map((c) => c.endAsync()));
  return { before, after };
}

async function main(): Promise<void> {
  const idleNames = Array.from({ length: IDLE_CLIENTS }, (_, i) => `idle-${i}`);
  process.stdout.write(`enrolling ${3 + IDLE_CLIENTS} machines at isaac-broker...\n`);
  const isaac = await isaacTarget(['a', 'b', 'd', ...idleNames]);
  const mosquitto = await mosquittoTarget();
  const targets = [isaac, mosquitto];

  // first, on fresh processes: what 200 idle machines cost
  for (const target of targets) {
    const { before, after } = await idleMemory(target, idleNames);
    process.stdout.write(
      `RSS with ${IDLE_CLIENTS} idle connected machines at ${target.name}: ${fmt(after, 1)} MiB ` +
        `(${fmt(before, 1)} MiB before)${target.name === 'isaac-broker' ? ' (aim < 150 MB)' : ''}\n`,
    );
  }

  for (const { label, bytes, count } of SIZES) {
    const rates = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    // one untimed round each: JIT warm-up (and tsx's lazy compile) is not steady-state throughput
    for (const target of targets) await throughput(target, bytes, Math.min(count, 1000));
    for (let round = 0; round < ROUNDS; round++) {
      // alternate who goes first so neither always gets the quieter moment
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        rates.get(target.name)?.push(await throughput(target, bytes, count));
      }
    }
    const mi = median(rates.get('isaac-broker') ?? []);
    const mm = median(rates.get('mosquitto') ?? []);
    process.stdout.write(
      `QoS-1 ${label} x${count}: isaac-broker ${fmt(mi, 0)} msg/s, mosquitto ${fmt(mm, 0)} msg/s, ` +
        `ratio ${fmt(mi / mm)} (aim >= 0.5; medians of ${ROUNDS})\n`,
    );
  }

  for (const target of targets) {
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) times.push(await drain(target));
    const m = median(times);
    process.stdout.write(
      `offline drain ${DRAIN} x 1 KiB at ${target.name}: ${fmt(m)} s (${fmt(DRAIN / m, 0)} msg/s, median of ${ROUNDS})\n`,
    );
  }
}

try {
  await main();
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
process.exit(0);
