import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { commandLine, EXIT, runProgram } from '../schemas/cli.ts';
import { UsageError } from '../schemas/errors.ts';
import { MACHINE_NAME_PATTERN } from '../schemas/names.ts';
import {
  type BrokerConfig,
  CONFIG_FILE,
  CONFIG_HELP,
  DEFAULT_CONFIG,
  envName,
  loadConfig,
} from './config.ts';
import type { StatusSnapshot } from './counters.ts';
import type { AedesPersistence } from './queue-bound.ts';
import type { StartBrokerOptions } from './server.ts';
import { STATUS_FILE } from './server-status.ts';
import type { BrokerStateStore } from './state-store.ts';
import { TLS_CERT_FILE } from './tls.ts';

// the broker itself (Aedes, SQLite) is loaded by the commands that need it, so --help,
// --version and `status` start quickly

function dataDirOf(value: unknown): string {
  const dir = typeof value === 'string' && value ? value : process.env.ISAAC_BROKER_DATA;
  if (!dir)
    throw new UsageError('no data directory given', { hint: 'pass --data DIR or set ISAAC_BROKER_DATA' });
  return resolve(dir);
}

async function makeLogger(level: string): Promise<Logger> {
  const { pino } = await import('pino');
  if (process.stdout.isTTY)
    return pino({ level, transport: { target: 'pino-pretty', options: { destination: 1 } } });
  return pino({ level }, pino.destination({ dest: 1, sync: false }));
}

/** Cluster mode lives in broker/cluster.ts (persistence helper): `createClusterBackends(url, ctx)`. */
async function clusterBackends(
  url: string,
  dataDir: string,
  log: Logger,
): Promise<Pick<StartBrokerOptions, 'persistence' | 'mq' | 'stateStore'>> {
  const modulePath = new URL('./cluster.ts', import.meta.url).href;
  const mod = (await import(modulePath)) as {
    createClusterBackends?: (
      u: string,
      ctx: { dataDir: string; log: Logger },
    ) => Promise<{
      persistence: AedesPersistence;
      mq: unknown;
      stateStore: StartBrokerOptions['stateStore'];
    }>;
  };
  if (!mod.createClusterBackends)
    throw new UsageError('this build has no cluster mode', { hint: 'remove --redis' });
  return await mod.createClusterBackends(url, { dataDir, log });
}

/** Serves until SIGTERM/SIGINT; resolves with the exit status once stopped (a second signal forces exit). */
async function start(dataDir: string, flags: Partial<Record<keyof BrokerConfig, unknown>>): Promise<number> {
  const config = loadConfig(dataDir, flags);
  const log = await makeLogger(config.logLevel);
  const { startBroker } = await import('./server.ts');
  const backends = config.redis ? await clusterBackends(config.redis, dataDir, log) : {};
  const broker = await startBroker({
    dataDir,
    host: config.host,
    tlsPort: config.tlsPort,
    tcpPort: config.tcpPort,
    insecureTcp: config.insecureTcp,
    wsPort: config.wsPort,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    limits: config,
    logger: log,
    ...backends,
  });
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', ...broker.ports, fingerprint: broker.fingerprint, pid: process.pid })}\n`,
  );
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(EXIT.failed);
      stopping = true;
      log.info({ signal }, 'shutting down');
      broker.close().then(
        () => {
          log.flush();
          setTimeout(() => resolve(EXIT.ok), 50);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          resolve(EXIT.failed);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

function status(dataDir: string, json: boolean): number {
  const file = join(dataDir, STATUS_FILE);
  if (!existsSync(file)) {
    throw new UsageError(`no broker status in ${dataDir}`, {
      hint: 'start it with `isaac-broker start --data DIR`',
    });
  }
  const snap = JSON.parse(readFileSync(file, 'utf8')) as StatusSnapshot & { stopped?: boolean };
  const running = !snap.stopped && Date.now() - snap.at < 5000;
  if (json) {
    process.stdout.write(`${JSON.stringify({ running, ...snap })}\n`);
    return EXIT.ok;
  }
  const lines = [
    running
      ? `isaac-broker running (pid ${snap.pid}), tls ${snap.ports?.tls ?? 'off'}, tcp ${snap.ports?.tcp ?? 'off'}, ws ${snap.ports?.ws ?? 'off'}`
      : `isaac-broker not running (last status ${new Date(snap.at).toISOString()})`,
    `connected machines (${snap.connected.length}): ${snap.connected.join(', ') || '-'}`,
    `queued for offline machines: ${
      Object.entries(snap.queueDepth)
        .map(([m, n]) => `${m}=${n}`)
        .join(', ') || '-'
    }`,
    `refusals: ${
      Object.entries(snap.refusals)
        .map(([r, n]) => `${r}=${n}`)
        .join(', ') || '-'
    }`,
    `messages/s: ${snap.messagesPerSecond}  (published ${snap.published}, delivered ${snap.delivered}, dropped ${snap.dropped})`,
    ...throttleLines(snap.throttle),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return running ? EXIT.ok : EXIT.notRunning;
}

function seconds(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The failed-login throttle in `isaac-broker status`: its settings, and who is held back now. */
function throttleLines(t: StatusSnapshot['throttle']): string[] {
  if (!t) return [];
  const s = t.settings;
  const held = (kind: string, keys: typeof t.addresses) =>
    keys.map(
      (k) =>
        `${kind} ${k.key} (${k.failures} failed, ${k.throttled} throttled, ${seconds(Math.ceil(k.retryInMs / 1000) * 1000)} left)`,
    );
  const now = [...held('address', t.addresses), ...held('name', t.names)];
  return [
    `login throttle (${t.scope}): ${s.loginFreeFailures} failed logins free per name and per address, then refused for ${seconds(s.loginBackoffMs)} doubling up to ${seconds(s.loginBackoffMaxMs)}; forgotten after ${seconds(s.loginForgetMs)} without a failure`,
    `throttled now: ${now.join(', ') || '-'}  (${t.throttled} attempts refused as throttled since start)`,
  ];
}

/** Observers live where the broker's state lives: DATA/broker-state.db, or Redis in cluster mode. */
async function observer(
  dataDir: string,
  action: string,
  name: string | undefined,
  redisFlag: string | undefined,
): Promise<void> {
  const { BrokerState, STATE_DB_FILE } = await import('./state.ts');
  const { sqliteStateStore } = await import('./state-store.ts');
  if (!existsSync(join(dataDir, STATE_DB_FILE)) && !existsSync(join(dataDir, TLS_CERT_FILE))) {
    throw new UsageError(`${dataDir} is not an isaac-broker data directory`, {
      hint: 'run `isaac-broker init --data DIR` first',
    });
  }
  const redis = loadConfig(dataDir, redisFlag === undefined ? {} : { redis: redisFlag }).redis;
  const local = new BrokerState(dataDir);
  let state: BrokerStateStore = sqliteStateStore(local);
  try {
    if (redis) {
      const { openClusterState } = await import('./cluster.ts');
      state = await openClusterState(redis, local);
    }
    if (action === 'list') {
      process.stdout.write(`${(await state.observers()).join('\n') || '(no observers)'}\n`);
      return;
    }
    if (name === undefined || !MACHINE_NAME_PATTERN.test(name)) {
      throw new UsageError(`invalid observer name ${JSON.stringify(name ?? '')}`, {
        hint: 'use 1-32 characters of a-z, 0-9 and -, e.g. homeassistant',
      });
    }
    if (action === 'remove') {
      if (!(await state.removeObserver(name)))
        throw new UsageError(`no observer named ${name}`, { hint: 'see `isaac-broker observer list`' });
      process.stdout.write(`removed observer ${name} (a live session ends when it reconnects)\n`);
      return;
    }
    if (await state.machine(name)) {
      throw new UsageError(`${name} is an enrolled machine`, { hint: 'pick another name for the observer' });
    }
    const password = randomBytes(24).toString('base64url');
    await state.addObserver(name, password);
    process.stdout.write(
      `observer ${name} added; MQTT username ${name}, password ${password}\n` +
        'it may read isaac/+/status and homeassistant/#, and publish homeassistant/status\n',
    );
  } finally {
    await state.close();
    local.close();
  }
}

const CLUSTER_HELP =
  'All brokers of a cluster must use the same Redis prefix and, behind one address, the same TLS ' +
  'certificate and key (nodes pin one fingerprint): init one data dir, copy its tls files into ' +
  "the others' data dirs. Machines, the network key, observers and used token nonces then live " +
  'in Redis; the first broker started copies its local state there.';

const configEpilogue = [
  `Configuration: DATA/${CONFIG_FILE} (JSON object), then ISAAC_BROKER_* environment, then flags.`,
  ...Object.entries(CONFIG_HELP).map(
    ([key, help]) =>
      `  ${key} (${envName(key)}, default ${String(DEFAULT_CONFIG[key as keyof BrokerConfig] ?? 'unset')}): ${help}`,
  ),
].join('\n');

const COMMANDS = ['init', 'start', 'status', 'observer'];

/** A numeric flag reaches loadConfig as typed, so a bad value is named there ("abc", not NaN). */
const NUMERIC_FLAGS = {
  'max-payload': CONFIG_HELP.maxPayload,
  'publish-rate': CONFIG_HELP.publishRate,
  'publish-burst': CONFIG_HELP.publishBurst,
  'max-queued': CONFIG_HELP.maxQueued,
  'connect-timeout-ms': CONFIG_HELP.connectTimeoutMs,
  'drain-timeout-ms': CONFIG_HELP.drainTimeoutMs,
  'max-inflight': CONFIG_HELP.maxInflight,
  'heartbeat-interval-ms': CONFIG_HELP.heartbeatIntervalMs,
  'login-free-failures': CONFIG_HELP.loginFreeFailures,
  'login-backoff-ms': CONFIG_HELP.loginBackoffMs,
  'login-backoff-max-ms': CONFIG_HELP.loginBackoffMaxMs,
  'login-forget-ms': CONFIG_HELP.loginForgetMs,
};

async function main(argv: string[]): Promise<number> {
  let exitStatus: number = EXIT.ok;
  const parser = await commandLine('isaac-broker', argv, COMMANDS);
  await parser
    .usage(
      '$0 <command> --data DIR\n\nThe Isaac relay: an MQTT broker with TLS, TTL-token logins and per-machine ACLs.',
    )
    .option('data', { type: 'string', describe: 'broker data directory (or ISAAC_BROKER_DATA)' })
    .command(
      'init',
      'create DIR: TLS key + self-signed certificate (prints its fingerprint), state DB, one-time setup token',
      (y) =>
        y
          .option('host-name', {
            type: 'string',
            array: true,
            describe: 'DNS name or IP for the certificate (repeatable)',
          })
          .option('json', { type: 'boolean', describe: 'print the result as one JSON line' }),
      async (args) => {
        const { initDataDir } = await import('./init.ts');
        const result = initDataDir(dataDirOf(args.data), (args.hostName as string[] | undefined) ?? []);
        if (args.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        process.stdout.write(
          [
            `initialized ${result.dataDir}`,
            `certificate fingerprint: ${result.fingerprint}`,
            `setup token (one-time; the first machine binds the network with it): ${result.setupToken}`,
            `next: isaac-broker start --data ${result.dataDir}`,
            '',
          ].join('\n'),
        );
      },
    )
    .command(
      'start',
      'serve MQTT: TLS, loopback TCP, optional WebSocket; prints {"event":"listening",...} and writes DATA/ports.json',
      (y) =>
        y
          .option('host', { type: 'string', describe: CONFIG_HELP.host })
          .option('tls-port', { type: 'string', describe: CONFIG_HELP.tlsPort })
          .option('tcp-port', { type: 'string', describe: CONFIG_HELP.tcpPort })
          .option('insecure-tcp', { type: 'boolean', describe: CONFIG_HELP.insecureTcp })
          .option('ws-port', { type: 'string', describe: CONFIG_HELP.wsPort })
          .option('redis', { type: 'string', describe: `${CONFIG_HELP.redis}. ${CLUSTER_HELP}` })
          .option('log-level', { type: 'string', describe: CONFIG_HELP.logLevel })
          .options(
            Object.fromEntries(
              Object.entries(NUMERIC_FLAGS).map(([flag, describe]) => [
                flag,
                { type: 'string', requiresArg: true, describe } as const,
              ]),
            ),
          )
          .epilogue(configEpilogue),
      async (args) => {
        const flags: Partial<Record<keyof BrokerConfig, unknown>> = {};
        for (const key of Object.keys(DEFAULT_CONFIG) as (keyof BrokerConfig)[]) {
          const value = (args as Record<string, unknown>)[key];
          if (value !== undefined) flags[key] = value;
        }
        exitStatus = await start(dataDirOf(args.data), flags);
      },
    )
    .command(
      'status',
      'show connected machines, queue depths, refusals by reason and messages/s of the running broker',
      (y) => y.option('json', { type: 'boolean', describe: 'print the raw status as JSON' }),
      (args) => {
        exitStatus = status(dataDirOf(args.data), Boolean(args.json));
      },
    )
    .command(
      'observer <action> [name]',
      'read-only logins for Home Assistant or dashboards: add NAME (prints its password), remove NAME, list',
      (y) =>
        y
          .positional('action', { choices: ['add', 'remove', 'list'] as const, demandOption: true })
          .positional('name', { type: 'string', describe: 'login name, e.g. homeassistant' })
          .option('redis', { type: 'string', describe: 'cluster mode: change the observers in this Redis' }),
      async (args) => {
        await observer(dataDirOf(args.data), String(args.action), args.name, args.redis);
      },
    )
    .demandCommand(1, 'name a command: init, start, status or observer')
    .parseAsync();
  return exitStatus;
}

runProgram('isaac-broker', () => main(process.argv.slice(2)));
