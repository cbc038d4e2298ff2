import type { Client } from 'aedes';
import { DEFAULT_THROTTLE, type ThrottleSettings } from './login-throttle.ts';

/** Also the failed-login throttle's settings (broker/login-throttle.ts). */
export interface BrokerLimits extends ThrottleSettings {
  /** Largest PUBLISH payload in bytes (DESIGN.md default 256 KiB, shared with the node). */
  maxPayload: number;
  /** Sustained publishes per second per client, and the burst allowed above it. */
  publishRate: number;
  publishBurst: number;
  /** QoS-1 messages kept per persistent session; further ones for it are dropped, logged and counted. */
  maxQueued: number;
  /** Milliseconds a fresh connection has to send CONNECT. */
  connectTimeoutMs: number;
  /** Milliseconds a client's socket may stay full before it is disconnected. */
  drainTimeoutMs: number;
  /** Inbound QoS-2 in flight per client (Aedes maxInflightInbound). */
  maxInflight: number;
  /** Messages Aedes processes at once (mq concurrency). */
  concurrency: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  ...DEFAULT_THROTTLE,
  maxPayload: 256 * 1024,
  publishRate: 200,
  publishBurst: 1000,
  maxQueued: 10_000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  maxInflight: 100,
  concurrency: 100,
};

/** Room for the topic and packet headers on top of the payload cap. */
const FRAME_OVERHEAD = 70 * 1024;

/** A token bucket per client: `take()` is false once the client publishes faster than allowed. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface ParserInternals {
  packet: { length: number };
  _parseLength: () => boolean;
  _emitError: (err: Error) => boolean;
}

/**
 * Refuses a packet as soon as its fixed header announces a length above the cap, before its body
 * is buffered: otherwise mqtt-packet would collect up to 256 MB per connection. This reaches into
 * the Aedes client's parser (no public hook exists); `onRefuse` is called once per refusal.
 */
export function guardFrameSize(client: Client, maxPayload: number, onRefuse: () => void): void {
  const parser = (client as unknown as { _parser?: ParserInternals })._parser;
  if (!parser || typeof parser._parseLength !== 'function') return;
  const limit = maxPayload + FRAME_OVERHEAD;
  const original = parser._parseLength;
  parser._parseLength = function guardedParseLength(this: ParserInternals): boolean {
    const ok = original.call(this);
    if (ok && this.packet.length > limit) {
      onRefuse();
      return this._emitError(
        new Error(`packet of ${this.packet.length} bytes exceeds the ${limit} byte limit`),
      );
    }
    return ok;
  };
}
