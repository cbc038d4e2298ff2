import type { Logger } from './logger.ts';

/** Counts every refused incoming payload by reason, and logs one line per refusal (rate-limited). */
export class RefusalCounter {
  private readonly counts = new Map<string, number>();
  private logged = 0;
  private windowStart = Date.now();

  constructor(private readonly log: Logger) {}

  refuse(reason: string, detail: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const now = Date.now();
    if (now - this.windowStart > 1000) {
      if (this.logged > 50)
        this.log.warn(
          { unlogged: this.logged - 50 },
          `refused ${this.logged - 50} more payloads in the last second (not logged)`,
        );
      this.windowStart = now;
      this.logged = 0;
    }
    // a flood must not turn into a flood of log lines; the counters still see every one
    if (++this.logged <= 50) this.log.warn({ reason }, `refused (${reason}): ${detail}`);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}
