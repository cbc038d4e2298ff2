import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../schemas/errors.ts';
import { type BrokerLimits, DEFAULT_LIMITS } from './limits.ts';

/** DATA/broker.json, ISAAC_BROKER_<KEY> environment and flags all set these keys (flags win). */
export const CONFIG_FILE = 'broker.json';

export interface BrokerConfig extends BrokerLimits {
  host: string;
  tlsPort: number | false;
  tcpPort: number | false;
  insecureTcp: boolean;
  wsPort: number | false;
  heartbeatIntervalMs: number;
  logLevel: string;
  redis: string | undefined;
}

export const DEFAULT_CONFIG: BrokerConfig = {
  ...DEFAULT_LIMITS,
  host: '0.0.0.0',
  tlsPort: 8883,
  tcpPort: 1883,
  insecureTcp: false,
  wsPort: false,
  heartbeatIntervalMs: 60_000,
  logLevel: 'info',
  redis: undefined,
};

/** What each key means; used for `--help` and deploy/README.md. */
export const CONFIG_HELP: Record<keyof BrokerConfig, string> = {
  host: 'address the TLS (and WebSocket, and insecure TCP) listeners bind to',
  tlsPort: 'MQTT over TLS port (0 = any free port, false = off)',
  tcpPort: 'plain MQTT port, bound to 127.0.0.1 unless insecureTcp (0 = any, false = off)',
  insecureTcp: 'bind the plain TCP port on `host` too: credentials then cross the network unencrypted',
  wsPort: 'MQTT over WebSocket port, off unless set (put a TLS proxy in front)',
  heartbeatIntervalMs: 'period of the $SYS/<id>/heartbeat message',
  logLevel: 'pino log level: trace, debug, info, warn, error, silent',
  redis:
    'redis://URL[?prefix=NAME:]: share sessions, messages, machines, the network key and used nonces with other isaac-broker processes (cluster mode)',
  maxPayload: 'largest message payload in bytes (nodes use the same cap)',
  publishRate: 'messages per second one client may publish on average; faster clients are disconnected',
  publishBurst: 'messages a client may publish in a burst above publishRate',
  maxQueued: 'messages kept for one offline machine; more are dropped, logged and counted',
  connectTimeoutMs: 'milliseconds a new connection has to send CONNECT',
  drainTimeoutMs: 'milliseconds a client may leave its socket full before it is disconnected',
  maxInflight: 'QoS-2 messages one client may have in flight',
  concurrency: 'messages the broker routes at once',
  loginFreeFailures: 'failed logins a machine name or a source address may have before the throttle starts',
  loginBackoffMs:
    'milliseconds a name or address is refused after those failures; doubles with each further failure',
  loginBackoffMaxMs: 'the longest such wait in milliseconds (at least loginBackoffMs)',
  loginForgetMs: 'milliseconds without a failed login after which a name or address starts over',
};

const NUMERIC = new Set<keyof BrokerConfig>([
  'maxPayload',
  'publishRate',
  'publishBurst',
  'maxQueued',
  'connectTimeoutMs',
  'drainTimeoutMs',
  'maxInflight',
  'concurrency',
  'heartbeatIntervalMs',
  'loginFreeFailures',
  'loginBackoffMs',
  'loginBackoffMaxMs',
  'loginForgetMs',
]);
const WHOLE = new Set<keyof BrokerConfig>(['loginFreeFailures']);
const PORTS = new Set<keyof BrokerConfig>(['tlsPort', 'tcpPort', 'wsPort']);

export function envName(key: string): string {
  return `ISAAC_BROKER_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Parses one value from a file, env or flag into the key's type; ConfigError on nonsense, naming
 * the setting as the user wrote it (`--max-payload`, `ISAAC_BROKER_MAX_PAYLOAD`, `FILE: maxPayload`)
 * and the value as given.
 */
export function coerce(key: keyof BrokerConfig, value: unknown, source: string): unknown {
  const setting = source === flagName(key) || source === envName(key) ? source : `${source}: ${key}`;
  // a flag is typed input (usage); a file or environment value is configuration
  const Problem = source === flagName(key) ? UsageError : ConfigError;
  const bad = (what: string) =>
    new Problem(`${setting} must be ${what}, got ${JSON.stringify(value)}`, {
      hint: `fix ${setting.replace(/^.*: /, '')} (${CONFIG_HELP[key]})`,
    });
  if (PORTS.has(key)) {
    if (value === false || value === 'false' || value === 'off') return false;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw bad('a port 0-65535 or false');
    return n;
  }
  if (NUMERIC.has(key)) {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw bad('a positive number');
    if (WHOLE.has(key) && !Number.isInteger(n)) throw bad('a whole number');
    return n;
  }
  if (key === 'insecureTcp') {
    if (value === true || value === 'true' || value === '1') return true;
    if (value === false || value === 'false' || value === '0') return false;
    throw bad('true or false');
  }
  if (typeof value !== 'string') throw bad('a string');
  return value;
}

export function loadConfig(
  dataDir: string,
  flags: Partial<Record<keyof BrokerConfig, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): BrokerConfig {
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  const keys = Object.keys(DEFAULT_CONFIG) as (keyof BrokerConfig)[];
  /** where each key's value came from, as the user wrote it (for errors about two keys) */
  const source: Partial<Record<keyof BrokerConfig, string>> = {};
  const file = join(dataDir, CONFIG_FILE);
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${file} is not valid JSON`, { cause: err, hint: 'fix or remove the file' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`${file} must hold a JSON object`, { hint: 'e.g. {"tlsPort": 8883}' });
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (!keys.includes(key as keyof BrokerConfig)) {
        throw new ConfigError(`${file}: unknown key ${JSON.stringify(key)}`, {
          hint: `known keys: ${keys.join(', ')}`,
        });
      }
      config[key] = coerce(key as keyof BrokerConfig, value, file);
      source[key as keyof BrokerConfig] = `${file}: ${key}`;
    }
  }
  for (const key of keys) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') {
      config[key] = coerce(key, value, envName(key));
      source[key] = envName(key);
    }
  }
  for (const key of keys) {
    const value = flags[key];
    if (value !== undefined) {
      config[key] = coerce(key, value, flagName(key));
      source[key] = flagName(key);
    }
  }
  const result = config as unknown as BrokerConfig;
  if (result.loginBackoffMaxMs < result.loginBackoffMs) {
    const max =
      source.loginBackoffMaxMs ?? `the default loginBackoffMaxMs ${DEFAULT_CONFIG.loginBackoffMaxMs}`;
    const min = source.loginBackoffMs ?? `the default loginBackoffMs ${DEFAULT_CONFIG.loginBackoffMs}`;
    const Problem = [max, min].some((s) => s.startsWith('--')) ? UsageError : ConfigError;
    throw new Problem(
      `loginBackoffMaxMs ${result.loginBackoffMaxMs} (${max}) is below loginBackoffMs ${result.loginBackoffMs} (${min})`,
      {
        hint: `raise loginBackoffMaxMs (${flagName('loginBackoffMaxMs')}, ${envName('loginBackoffMaxMs')} or ${CONFIG_FILE}) or lower loginBackoffMs: the longest wait cannot be shorter than the first`,
      },
    );
  }
  return result;
}
