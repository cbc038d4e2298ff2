import { Redis } from 'ioredis';
import { NetworkError } from '../schemas/errors.ts';

const CONNECT_TIMEOUT_MS = 10_000;

/** One Redis connection that retries on its own after the first connect, which must succeed. */
export async function connectRedis(
  url: string,
  options: { keyPrefix?: string; maxRetriesPerRequest?: number | null; autoResubscribe?: boolean } = {},
): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: null, ...options, lazyConnect: true });
  redis.on('error', () => undefined); // reconnects on its own; the first connect is checked below
  const timer = setTimeout(() => redis.disconnect(), CONNECT_TIMEOUT_MS);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new NetworkError(`cannot reach Redis at ${new URL(url).host}: ${(err as Error).message}`, {
      hint: 'start Redis or fix --redis; without --redis isaac-broker runs alone on its SQLite store',
    });
  } finally {
    clearTimeout(timer);
  }
  return redis;
}
