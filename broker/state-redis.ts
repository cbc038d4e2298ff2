/**
 * Cluster mode's broker state (`--redis URL`): machines, the bound network key, the setup token,
 * observers and used nonces live in Redis under the network's prefix, so every isaac-broker of the
 * cluster decides logins on the same state at the same moment. Layout (after the prefix):
 *   state:meta            hash  network_pk, setup_token_sha256 | setup_used, seeded, network_pk_retired.<ms>
 *   state:machine:<name>  hash  secret, enrolled_at, revoked_at ('' while a member)
 *   state:machines        set   names
 *   state:observers       hash  name -> sha256(password)
 *   state:nonce:<nonce>   string, SET NX PX: atomic across brokers, expires with the token
 *                         (t: login tokens, a: admin requests, i: invite grants, consumed by enroll)
 * and the pub/sub channel <prefix>state:revoked, on which a broker that applied a revoke tells the
 * others to close the machine's live session.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectRedis } from './redis-connect.ts';
import { type MachineRow, retiredKeys, type StateSnapshot, sha256 } from './state.ts';
import type { BrokerStateStore } from './state-store.ts';

const META = 'state:meta';
const MACHINES = 'state:machines';
const OBSERVERS = 'state:observers';
const machineKey = (name: string) => `state:machine:${name}`;
const nonceKey = (nonce: string) => `state:nonce:${nonce}`;
/** Nonces outlive their token a little, so brokers whose clocks differ still agree on replays. */
const NONCE_GRACE_MS = 60_000;

const BIND = `
if redis.call('HEXISTS', KEYS[1], 'network_pk') == 1 then return 0 end
local token = redis.call('HGET', KEYS[1], 'setup_token_sha256')
if not token or token ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'network_pk', ARGV[2], 'setup_used', ARGV[5])
redis.call('HDEL', KEYS[1], 'setup_token_sha256')
redis.call('HSET', KEYS[2], 'secret', ARGV[4], 'enrolled_at', ARGV[5], 'revoked_at', '')
redis.call('SADD', KEYS[3], ARGV[3])
return 1`;

const ROTATE = `
local current = redis.call('HGET', KEYS[1], 'network_pk')
if not current or current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'network_pk_retired.' .. ARGV[3], current, 'network_pk', ARGV[2])
return 1`;

const ENROLL_NEW = `
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HGET', KEYS[1], 'revoked_at') == '' then return 0 end
redis.call('HSET', KEYS[1], 'secret', ARGV[1], 'enrolled_at', ARGV[2], 'revoked_at', '')
redis.call('SADD', KEYS[2], ARGV[3])
return 1`;

const REVOKE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'revoked_at') ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1], 'secret', ARGV[2])
return 1`;

export interface RedisStateOptions {
  url: string;
  prefix: string;
  /** The data dir's local state, copied into Redis if this network has no state there yet. */
  seed?: StateSnapshot;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export async function createRedisStateStore(options: RedisStateOptions): Promise<BrokerStateStore> {
  const { url, prefix, log } = options;
  // a login must not wait forever on a Redis that is away: fail it (refused) and let the node retry
  const redis = await connectRedis(url, { keyPrefix: prefix, maxRetriesPerRequest: 2 });
  let sub: Redis;
  try {
    // ioredis' own re-subscribe after a reconnect leaves its promise unhandled: when Redis drops
    // again at that moment, the rejection would take the broker down. Re-subscribe here instead.
    sub = await connectRedis(url, { autoResubscribe: false });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const channel = `${prefix}state:revoked`;
  const origin = randomBytes(8).toString('hex');
  const listeners: ((name: string) => void)[] = [];
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const { name, from } = JSON.parse(message) as { name?: unknown; from?: unknown };
      if (typeof name !== 'string' || from === origin) return;
      for (const listener of listeners) listener(name);
    } catch {
      log?.warn({ channel }, 'ignored a malformed revocation notice');
    }
  });
  await sub.subscribe(channel);
  // connectRedis resolved on the first 'ready': every later one is a reconnect
  sub.on('ready', () => {
    sub.subscribe(channel).catch((err: Error) => {
      log?.warn(
        { channel, err: err.message },
        'could not re-subscribe to revocation notices; retrying on the next reconnect',
      );
    });
  });

  if (options.seed) await seedOnce(redis, options.seed, log);

  const machineOf = async (name: string): Promise<MachineRow | undefined> => {
    const row = await redis.hgetallBuffer(machineKey(name));
    const secret = row.secret;
    if (!secret) return undefined;
    const revoked = row.revoked_at?.toString() ?? '';
    return {
      name,
      secret,
      enrolledAt: Number(row.enrolled_at?.toString() ?? 0),
      revokedAt: revoked === '' ? null : Number(revoked),
    };
  };

  return {
    kind: 'redis',
    machine: machineOf,
    async machines() {
      const names = (await redis.smembers(MACHINES)).sort();
      const rows = await Promise.all(names.map(machineOf));
      return rows.filter((r): r is MachineRow => r !== undefined);
    },
    async enrollNew(name, secret, nowMs = Date.now()) {
      const done = await redis.eval(
        ENROLL_NEW,
        2,
        machineKey(name),
        MACHINES,
        Buffer.from(secret),
        String(nowMs),
        name,
      );
      return done === 1;
    },
    async revoke(name, nowMs = Date.now()) {
      const changed = await redis.eval(REVOKE, 1, machineKey(name), String(nowMs), Buffer.alloc(32));
      return changed === 1;
    },
    async networkPk() {
      const value = await redis.hgetBuffer(META, 'network_pk');
      return value ? new Uint8Array(value) : undefined;
    },
    async setupTokenMatches(token) {
      const stored = await redis.hgetBuffer(META, 'setup_token_sha256');
      return stored?.length === 32 && timingSafeEqual(stored, sha256(token));
    },
    async bind(networkPk, setupToken, name, secret, nowMs = Date.now()) {
      const done = await redis.eval(
        BIND,
        3,
        META,
        machineKey(name),
        MACHINES,
        sha256(setupToken),
        Buffer.from(networkPk),
        name,
        Buffer.from(secret),
        String(nowMs),
      );
      return done === 1;
    },
    async rotateNetworkKey(expected, next, nowMs = Date.now()) {
      const done = await redis.eval(ROTATE, 1, META, Buffer.from(expected), Buffer.from(next), String(nowMs));
      return done === 1;
    },
    async retiredNetworkKeys() {
      const meta = await redis.hgetallBuffer(META);
      return retiredKeys(Object.entries(meta).filter(([key]) => key.startsWith('network_pk_retired.')));
    },
    async addObserver(name, password) {
      await redis.hset(OBSERVERS, name, sha256(password));
    },
    async removeObserver(name) {
      return (await redis.hdel(OBSERVERS, name)) > 0;
    },
    async observers() {
      return (await redis.hkeys(OBSERVERS)).sort();
    },
    async observerPasswordMatches(name, password) {
      const stored = await redis.hgetBuffer(OBSERVERS, name);
      if (!stored) return undefined;
      return stored.length === 32 && timingSafeEqual(stored, sha256(password));
    },
    async rememberNonce(nonce, expiresMs) {
      const ttl = Math.max(1000, expiresMs - Date.now() + NONCE_GRACE_MS);
      return (await redis.set(nonceKey(nonce), '1', 'PX', ttl, 'NX')) === 'OK';
    },
    // Redis expires nonces by itself
    pruneNonces: async () => 0,
    async announceRevoked(name) {
      // raw channel name: ioredis' keyPrefix covers keys, not channels
      await redis.call('PUBLISH', channel, JSON.stringify({ name, from: origin }));
    },
    onRevoked(listener) {
      listeners.push(listener);
    },
    async close() {
      sub.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The first broker started with --redis copies its data dir's state (setup token, or bound key,
 * machines and observers) into an empty prefix; WATCH/MULTI makes exactly one of several brokers
 * starting at once do it. Later brokers' local files are ignored: Redis is the state from then on.
 */
async function seedOnce(redis: Redis, seed: StateSnapshot, log: RedisStateOptions['log']): Promise<void> {
  if (!seed.networkPk && !seed.setupTokenSha256) return;
  await redis.watch(META);
  if ((await redis.hexists(META, 'seeded')) || (await redis.hexists(META, 'network_pk'))) {
    await redis.unwatch();
    log?.info({}, 'cluster state found in Redis; the local broker-state.db is not used');
    return;
  }
  const tx = redis.multi().hset(META, 'seeded', String(Date.now()));
  if (seed.networkPk) tx.hset(META, 'network_pk', seed.networkPk, 'setup_used', '1');
  else if (seed.setupTokenSha256) tx.hset(META, 'setup_token_sha256', seed.setupTokenSha256);
  for (const m of seed.machines) {
    tx.hset(
      machineKey(m.name),
      'secret',
      m.secret,
      'enrolled_at',
      String(m.enrolledAt),
      'revoked_at',
      m.revokedAt === null ? '' : String(m.revokedAt),
    );
    tx.sadd(MACHINES, m.name);
  }
  for (const o of seed.observers) tx.hset(OBSERVERS, o.name, o.passwordSha256);
  const result = await tx.exec();
  if (result)
    log?.info(
      { machines: seed.machines.length, bound: Boolean(seed.networkPk) },
      'cluster state seeded into Redis from the local broker-state.db',
    );
}
