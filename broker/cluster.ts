/**
 * Cluster mode (`isaac-broker start --redis URL`): several isaac-broker processes share sessions,
 * queues, retained messages (aedes-persistence-redis) and live traffic (mqemitter-redis) through
 * one Redis. Everything this network puts into Redis — keys and pub/sub channels — carries a
 * prefix, so several networks (or test runs) can share one Redis without seeing each other.
 *
 * URL: redis[s]://[user:password@]host[:port][/db][?prefix=NAME:]  (default prefix `isaac:`).
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { UsageError } from '../schemas/errors.ts';
import { installAckAfterStore } from './persistence/ack-after-store.ts';
import type { AedesAsyncPersistence, BrokerHandle } from './persistence/interface.ts';
import { connectRedis } from './redis-connect.ts';
import type { BrokerState } from './state.ts';
import { createRedisStateStore } from './state-redis.ts';
import type { BrokerStateStore } from './state-store.ts';

const require = createRequire(import.meta.url);

export const DEFAULT_REDIS_PREFIX = 'isaac:';

interface RedisEmitter {
  _subTopic(topic: string): string;
  close(callback: () => void): void;
}

const mqemitterRedis = require('mqemitter-redis') as (options: {
  subConn: Redis;
  pubConn: Redis;
  concurrency?: number;
  matchEmptyLevels: boolean;
}) => RedisEmitter;
const redisPersistence = require('aedes-persistence-redis') as (options: {
  conn: Redis;
  maxSessionDelivery?: number;
}) => AedesAsyncPersistence;

export interface ClusterOptions {
  /** Overrides the URL's `?prefix=`; letters, digits and `:_.-` only. */
  prefix?: string;
  /** Messages the mq emitter delivers at once (Aedes' `concurrency`). */
  concurrency?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface ClusterBackends {
  /** Pass as `startBroker({ persistence, mq })`. */
  persistence: AedesAsyncPersistence;
  mq: unknown;
  prefix: string;
  /**
   * Pass as `startBroker({ stateStore })`: machines, network key, observers and nonces in Redis,
   * seeded from the data dir's local state if this prefix has none yet.
   */
  stateStore(ctx: { local: BrokerState; log?: ClusterOptions['log'] }): Promise<BrokerStateStore>;
  /** Closes both (idempotent; Aedes' own close also closes mq). */
  close(): Promise<void>;
}

export interface RedisTarget {
  url: string;
  prefix: string;
}

/** Splits our `prefix` query parameter off a Redis URL and checks both. */
export function parseRedisUrl(raw: string, prefixOverride?: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--redis ${JSON.stringify(raw)} is not a URL`, {
      hint: 'give it as redis://host:6379 (or rediss:// for TLS)',
    });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL, not ${url.protocol}`, {
      hint: 'for example redis://127.0.0.1:6379',
    });
  }
  const prefix = prefixOverride ?? url.searchParams.get('prefix') ?? DEFAULT_REDIS_PREFIX;
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(prefix)) {
    throw new UsageError(`Redis prefix ${JSON.stringify(prefix)} is not allowed`, {
      hint: 'use 1-64 letters, digits, ":", "_", "." or "-" (no glob characters)',
    });
  }
  url.searchParams.delete('prefix');
  return { url: url.toString(), prefix };
}

/** Channel names of the emitter get the prefix too (ioredis' keyPrefix covers keys only). */
function prefixChannels(emitter: RedisEmitter, pubConn: Redis, prefix: string): void {
  const subTopic = emitter._subTopic.bind(emitter);
  emitter._subTopic = (topic) => prefix + subTopic(topic);
  const publish = pubConn.publish.bind(pubConn);
  pubConn.publish = ((channel: string, message: Buffer) =>
    publish(prefix + channel, message)) as Redis['publish'];
}

/**
 * Aedes 1.2 stores a SUBSCRIBE of N topics by calling `addSubscriptions(client, allN)` N times at
 * once; aedes-persistence-redis waits for each call's broadcast under one key (client id + first
 * topic), so N-1 of the waits are overwritten and never end: a multi-topic SUBSCRIBE in cluster
 * mode got no SUBACK, and `isaac-node join` timed out publishing its roster entry. The N calls
 * carry the same array, so they share one store-and-broadcast.
 */
function shareConcurrentAddSubscriptions(persistence: AedesAsyncPersistence): void {
  const add = persistence.addSubscriptions.bind(persistence);
  const inFlight = new WeakMap<object, Promise<unknown>>();
  persistence.addSubscriptions = (client, subs) => {
    const running = inFlight.get(subs);
    if (running) return running as ReturnType<typeof add>;
    const started = add(client, subs);
    inFlight.set(subs, started);
    const forget = () => inFlight.delete(subs);
    started.then(forget, forget);
    return started;
  };
}

export async function clusterBackends(
  redisUrl: string,
  options: ClusterOptions = {},
): Promise<ClusterBackends> {
  const { url, prefix } = parseRedisUrl(redisUrl, options.prefix);
  const settled = await Promise.allSettled([
    connectRedis(url, { keyPrefix: prefix }),
    connectRedis(url),
    connectRedis(url),
  ]);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    for (const r of settled) if (r.status === 'fulfilled') r.value.disconnect();
    throw failed.reason;
  }
  const [store, subConn, pubConn] = settled.map((r) => (r as PromiseFulfilledResult<Redis>).value) as [
    Redis,
    Redis,
    Redis,
  ];
  const mq = mqemitterRedis({ subConn, pubConn, concurrency: options.concurrency, matchEmptyLevels: true });
  prefixChannels(mq, pubConn, prefix);

  const persistence = redisPersistence({ conn: store });
  const setup = persistence.setup.bind(persistence);
  // an async arrow keeps `setup.constructor.name === 'AsyncFunction'`, which Aedes checks
  persistence.setup = async (broker: BrokerHandle) => {
    await setup(broker);
    installAckAfterStore(broker);
  };
  shareConcurrentAddSubscriptions(persistence);
  const destroy = persistence.destroy.bind(persistence);
  let destroyed: Promise<void> | undefined;
  persistence.destroy = () => {
    destroyed ??= destroy().catch(() => undefined);
    return destroyed;
  };

  options.log?.info(
    { redis: new URL(url).host, prefix },
    'cluster mode: sessions and traffic shared through Redis',
  );
  return {
    persistence,
    mq,
    prefix,
    stateStore: ({ local, log }) =>
      createRedisStateStore({ url, prefix, seed: local.snapshot(), log: log ?? options.log }),
    async close() {
      await persistence.destroy();
      await new Promise<void>((resolve) => mq.close(() => resolve()));
      store.disconnect();
    },
  };
}

/** The hook broker/cli.ts looks for: `--redis URL` → `{ persistence, mq }` for startBroker. */
export async function createClusterBackends(
  url: string,
  ctx: { dataDir: string; log?: ClusterOptions['log'] },
): Promise<ClusterBackends> {
  return await clusterBackends(url, { log: ctx.log });
}

/** The cluster's state alone (e.g. `isaac-broker observer add --redis URL`). */
export async function openClusterState(
  redisUrl: string,
  local?: BrokerState,
  log?: ClusterOptions['log'],
): Promise<BrokerStateStore> {
  const { url, prefix } = parseRedisUrl(redisUrl);
  return await createRedisStateStore({ url, prefix, seed: local?.snapshot(), log });
}

/** Deletes every key under a prefix (tests, or retiring a network from a shared Redis). */
export async function clearRedisPrefix(redisUrl: string, prefix: string): Promise<number> {
  const { url } = parseRedisUrl(redisUrl, prefix);
  const redis = await connectRedis(url);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
