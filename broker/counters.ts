import type { ThrottleStatus } from './login-throttle.ts';

/** Counters the running broker keeps and `isaac-broker status` shows. */
export class Counters {
  readonly refusals = new Map<string, number>();
  readonly queueDepth = new Map<string, number>();
  readonly connected = new Set<string>();
  published = 0;
  delivered = 0;
  dropped = 0;
  private rateWindow: { at: number; published: number } = { at: Date.now(), published: 0 };
  private lastRate = 0;

  refuse(reason: string): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  refusalCount(reason: string): number {
    return this.refusals.get(reason) ?? 0;
  }

  /** Messages/s over the time since the previous call (called once a second by the status writer). */
  sampleRate(nowMs = Date.now()): number {
    const elapsed = nowMs - this.rateWindow.at;
    if (elapsed >= 500) {
      this.lastRate = ((this.published - this.rateWindow.published) * 1000) / elapsed;
      this.rateWindow = { at: nowMs, published: this.published };
    }
    return this.lastRate;
  }

  snapshot(nowMs = Date.now()): StatusSnapshot {
    return {
      at: nowMs,
      connected: [...this.connected].sort(),
      queueDepth: Object.fromEntries([...this.queueDepth].filter(([, n]) => n > 0).sort()),
      refusals: Object.fromEntries([...this.refusals].sort()),
      published: this.published,
      delivered: this.delivered,
      dropped: this.dropped,
      messagesPerSecond: Math.round(this.sampleRate(nowMs) * 10) / 10,
    };
  }
}

export interface StatusSnapshot {
  at: number;
  pid?: number;
  ports?: ListeningPorts;
  connected: string[];
  queueDepth: Record<string, number>;
  refusals: Record<string, number>;
  published: number;
  delivered: number;
  dropped: number;
  messagesPerSecond: number;
  /** the failed-login throttle: settings and what it blocks now */
  throttle?: ThrottleStatus;
}

export interface ListeningPorts {
  tls: number | null;
  tcp: number | null;
  ws: number | null;
}
