import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import nacl from 'tweetnacl';
import type { ListeningPorts } from '../../broker/counters.ts';
import { initDataDir } from '../../broker/init.ts';
import type { BrokerLimits } from '../../broker/limits.ts';
import { type RunningBroker, type StartBrokerOptions, startBroker } from '../../broker/server.ts';
import { TLS_CERT_FILE } from '../../broker/tls.ts';
import {
  ADMIN_CLIENT_PREFIX,
  ADMIN_USERNAME,
  createAdminRequest,
  createEnrollRequest,
} from '../../schemas/admin.ts';
import { fingerprintOfDer } from '../../schemas/fingerprint.ts';
import { createInviteGrant } from '../../schemas/invite.ts';
import { type MintTokenOptions, mintToken } from '../../schemas/token.ts';
import { tempDir } from './tmp.ts';

const REPO = resolve(import.meta.dirname, '../..');
const BIN = join(REPO, 'broker/isaac-broker.mjs');

export interface TestBrokerOptions {
  /** Spawn the real `isaac-broker start` process instead of running in this process. */
  process?: boolean;
  limits?: Partial<BrokerLimits>;
  /** In-process only: persistence instance/factory (default: the broker's default). */
  persistence?: StartBrokerOptions['persistence'];
  /** In-process only: the broker state store (default the data dir's SQLite). */
  stateStore?: StartBrokerOptions['stateStore'];
  /** Reuse an initialized and bound data dir (restart after kill); give its network keys and secrets. */
  reuse?: { dataDir: string; networkKeys: nacl.SignKeyPair; secrets: Map<string, Uint8Array> };
  /** Machines enrolled before the helper returns (the first one binds the network). */
  machines?: string[];
  /** Fixed ports (e.g. the previous run's); default ephemeral. */
  tlsPort?: number;
  tcpPort?: number;
  /** Also listen for MQTT over WebSocket (0 = ephemeral); `wsUrl` is then set. */
  wsPort?: number;
  /** Extra `isaac-broker start` flags (process mode). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface ConnectOptions extends IClientOptions {
  /** Connect over TLS with the certificate fingerprint pinned (default plain TCP on loopback). */
  tls?: boolean;
  /** Connect over the WebSocket listener (needs wsPort). */
  ws?: boolean;
  /** Override the minted token (to test refusals). */
  token?: string;
  tokenOptions?: MintTokenOptions;
}

export interface TestBroker {
  url: string;
  tlsUrl: string;
  /** ws://127.0.0.1:<port> when started with wsPort, else ''. */
  wsUrl: string;
  ports: ListeningPorts;
  fingerprint: string;
  caPem: string;
  dataDir: string;
  networkKeys: nacl.SignKeyPair;
  secrets: Map<string, Uint8Array>;
  /** In-process mode: the running broker (counters, aedes, state). */
  running: RunningBroker | undefined;
  /** Process mode: the child. */
  child: ChildProcess | undefined;
  /** Log lines (pino JSON) written so far. */
  logs(): string[];
  /** Enrolls a machine (new, or revoked before) with a fresh invite; returns its HMAC secret. */
  enroll(name: string): Promise<Uint8Array>;
  revoke(name: string): Promise<void>;
  /** Sends raw admin request bytes; resolves with the CONNACK return code (0 = applied). */
  admin(request: Uint8Array): Promise<number>;
  token(name: string, options?: MintTokenOptions): string;
  /** A connected MQTT client logged in as `name` (rejects with the refusal); ended in t.after. */
  connect(name: string, options?: ConnectOptions): Promise<MqttClient>;
  /** Like connect but resolves with the CONNACK code instead of throwing (0 = accepted). */
  tryConnect(name: string, options?: ConnectOptions): Promise<{ code: number; client: MqttClient }>;
  /** Graceful stop (SIGTERM for a process). */
  stop(): Promise<void>;
  /** SIGKILL (process mode) or an abrupt close (in-process). */
  kill(): Promise<void>;
}

type TestCtx = Pick<TestContext, 'after'>;

/** Inits a data dir, binds a network key, enrolls machines and starts a broker on ephemeral ports. */
export async function startTestBroker(t: TestCtx, options: TestBrokerOptions = {}): Promise<TestBroker> {
  const networkKeys = options.reuse?.networkKeys ?? nacl.sign.keyPair();
  const secrets = options.reuse?.secrets ?? new Map<string, Uint8Array>();
  // registered before tempDir's hook so the broker stops before its directory is removed
  let cleanup: (() => Promise<void>) | undefined;
  t.after(() => cleanup?.());
  let dataDir: string;
  let setupToken: string | undefined;
  if (options.reuse) dataDir = options.reuse.dataDir;
  else {
    dataDir = join(tempDir(t, 'isaac-broker-'), 'data');
    setupToken = initDataDir(dataDir).setupToken;
  }
  const caPem = readFileSync(join(dataDir, TLS_CERT_FILE), 'utf8');
  const lines: string[] = [];
  let running: RunningBroker | undefined;
  let child: ChildProcess | undefined;
  let ports: ListeningPorts;
  let fingerprint: string;
  const clients: MqttClient[] = [];

  if (options.process) {
    const started = await spawnBroker(dataDir, options, lines);
    child = started.child;
    ports = started.ports;
    fingerprint = started.fingerprint;
  } else {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    running = await startBroker({
      dataDir,
      host: '127.0.0.1',
      tlsPort: options.tlsPort ?? 0,
      tcpPort: options.tcpPort ?? 0,
      wsPort: options.wsPort ?? false,
      limits: options.limits,
      persistence: options.persistence,
      stateStore: options.stateStore,
      heartbeatIntervalMs: 1000,
      logger: pino({ level: 'info' }, sink),
    });
    ports = running.ports;
    fingerprint = running.fingerprint;
  }

  const url = `mqtt://127.0.0.1:${ports.tcp}`;
  const tlsUrl = `mqtts://127.0.0.1:${ports.tls}`;
  const wsUrl = ports.ws === null ? '' : `ws://127.0.0.1:${ports.ws}`;
  let stopped = false;

  const admin = (request: Uint8Array): Promise<number> =>
    new Promise((resolvePromise, reject) => {
      const client = mqtt.connect(url, {
        clientId: `${ADMIN_CLIENT_PREFIX}${randomBytes(8).toString('hex')}`,
        username: ADMIN_USERNAME,
        password: Buffer.from(request),
        reconnectPeriod: 0,
        connectTimeout: 15_000,
        protocolVersion: 4,
      });
      client.once('connect', () => {
        client.end(true);
        resolvePromise(0);
      });
      client.once('error', (err: Error & { code?: number }) => {
        client.end(true);
        if (typeof err.code === 'number') resolvePromise(err.code);
        else reject(err);
      });
      // MQTT.js closes without an error when the CONNACK does not come in time: fail, never hang
      client.once('close', () => reject(new Error('admin connection closed before a CONNACK')));
    });

  const broker: TestBroker = {
    url,
    tlsUrl,
    wsUrl,
    ports,
    fingerprint,
    caPem,
    dataDir,
    networkKeys,
    secrets,
    running,
    child,
    logs: () => [...lines],
    admin,
    async enroll(name) {
      const secret = new Uint8Array(randomBytes(32));
      const bound = secrets.size > 0 || options.reuse !== undefined;
      const request = bound
        ? inviteEnrollRequest(name, secret, networkKeys.secretKey)
        : createAdminRequest(
            { op: 'bind', name, secret, networkPk: networkKeys.publicKey, setupToken: setupToken ?? '' },
            networkKeys.secretKey,
          );
      const code = await admin(request);
      if (code !== 0) throw new Error(`enroll ${name} refused with CONNACK ${code}`);
      secrets.set(name, secret);
      return secret;
    },
    async revoke(name) {
      const code = await admin(createAdminRequest({ op: 'revoke', name }, networkKeys.secretKey));
      if (code !== 0) throw new Error(`revoke ${name} refused with CONNACK ${code}`);
    },
    token(name, tokenOptions) {
      const secret = secrets.get(name);
      if (!secret) throw new Error(`${name} is not enrolled in this test broker`);
      return mintToken(name, secret, tokenOptions);
    },
    async tryConnect(name, connectOptions = {}) {
      const { tls, ws, token, tokenOptions, ...rest } = connectOptions;
      const password =
        token ??
        (secrets.has(name) ? mintToken(name, secrets.get(name) as Uint8Array, tokenOptions) : 'none');
      const client = mqtt.connect(ws ? wsUrl : tls ? tlsUrl : url, {
        clientId: name,
        username: name,
        password,
        clean: false,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        protocolVersion: 4,
        ...(tls ? pinnedTlsOptions(fingerprint, caPem) : {}),
        ...rest,
      });
      clients.push(client);
      client.on('error', () => undefined);
      return await new Promise((resolvePromise, reject) => {
        client.once('connect', () => resolvePromise({ code: 0, client }));
        client.once('error', (err: Error & { code?: number }) => {
          if (typeof err.code === 'number') resolvePromise({ code: err.code, client });
          else reject(err);
        });
        client.once('close', () => resolvePromise({ code: -1, client }));
      });
    },
    async connect(name, connectOptions) {
      const { code, client } = await broker.tryConnect(name, connectOptions);
      if (code !== 0) throw new Error(`${name} could not connect: CONNACK ${code}`);
      return client;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of clients) c.end(true);
      if (running) await running.close();
      if (child) await signalAndWait(child, 'SIGTERM');
    },
    async kill() {
      if (stopped) return;
      stopped = true;
      for (const c of clients) c.end(true);
      if (running) await running.close();
      if (child) await signalAndWait(child, 'SIGKILL');
    },
  };
  cleanup = () => broker.kill();
  for (const name of options.machines ?? []) await broker.enroll(name);
  return broker;
}

/** An enroll request as `isaac-node join` makes it: a fresh invite for `name`, proved once. */
export function inviteEnrollRequest(
  name: string,
  secret: Uint8Array,
  networkSecretKey: Uint8Array,
  options: { expires?: number; nowMs?: number } = {},
): Uint8Array {
  const nowMs = options.nowMs ?? Date.now();
  const { grant, inviteSeed } = createInviteGrant(name, networkSecretKey, {
    expires: options.expires ?? nowMs + 3_600_000,
    issued: nowMs,
  });
  return createEnrollRequest(name, secret, grant, nacl.sign.keyPair.fromSeed(inviteSeed).secretKey, nowMs);
}

/** TLS options that accept exactly the broker certificate with this fingerprint. */
export function pinnedTlsOptions(fingerprint: string, caPem: string): IClientOptions {
  return {
    ca: [caPem],
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      fingerprintOfDer(cert.raw) === fingerprint
        ? undefined
        : new Error('broker certificate fingerprint mismatch'),
  } as IClientOptions;
}

async function spawnBroker(
  dataDir: string,
  options: TestBrokerOptions,
  lines: string[],
): Promise<{ child: ChildProcess; ports: ListeningPorts; fingerprint: string }> {
  const args = [
    BIN,
    'start',
    '--data',
    dataDir,
    '--host',
    '127.0.0.1',
    '--tls-port',
    String(options.tlsPort ?? 0),
    '--tcp-port',
    String(options.tcpPort ?? 0),
    '--heartbeat-interval-ms',
    '1000',
    ...(options.wsPort === undefined ? [] : ['--ws-port', String(options.wsPort)]),
    ...limitFlags(options.limits ?? {}),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return await new Promise((resolvePromise, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`isaac-broker did not start in 20 s: ${stderr}`));
    }, 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (line.includes('"event":"listening"')) {
          clearTimeout(timer);
          const event = JSON.parse(line) as ListeningPorts & { fingerprint: string };
          resolvePromise({
            child,
            ports: { tls: event.tls, tcp: event.tcp, ws: event.ws },
            fingerprint: event.fingerprint,
          });
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`isaac-broker exited with ${code}: ${stderr}`));
    });
  });
}

function limitFlags(limits: Partial<BrokerLimits>): string[] {
  return Object.entries(limits).flatMap(([key, value]) => [
    `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    String(value),
  ]);
}

async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
