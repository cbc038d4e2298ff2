/**
 * Failed-login throttling (issue 11): per machine name and per source address, in this broker
 * instance's memory (in cluster mode each broker throttles what reaches it). A key may fail
 * `loginFreeFailures` times; from then on each failure blocks it for `loginBackoffMs`, doubling
 * up to `loginBackoffMaxMs`, and a login while it is blocked is refused as "throttled" without
 * being checked. A successful login clears its name (never its address); a key that has not
 * failed for `loginForgetMs` starts over. An attempt refused by its address's block does not
 * count against the name, so one flooding address cannot lock a machine out for long.
 */
export interface ThrottleSettings {
  /** failed logins a name or an address may have before backoff starts */
  loginFreeFailures: number;
  /** the first wait after those, in ms; it doubles with each further failure */
  loginBackoffMs: number;
  /** the longest wait, in ms */
  loginBackoffMaxMs: number;
  /** ms without a failure after which a name or address starts over */
  loginForgetMs: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  loginFreeFailures: 5,
  loginBackoffMs: 1000,
  loginBackoffMaxMs: 60_000,
  loginForgetMs: 15 * 60_000,
};

/** Bound on the keys remembered per kind; the longest-quiet ones are forgotten first. */
const MAX_KEYS = 10_000;

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
  /** attempts refused while blocked */
  throttled: number;
}

export type ThrottleKind = 'address' | 'name';

export interface Blocked {
  kind: ThrottleKind;
  key: string;
  retryInMs: number;
}

export interface BlockedKey {
  key: string;
  failures: number;
  /** ms until its block ends */
  retryInMs: number;
  throttled: number;
}

/** What `isaac-broker status` shows of the throttle. */
export interface ThrottleStatus {
  scope: 'this broker instance';
  settings: ThrottleSettings;
  /** keys blocked now */
  addresses: BlockedKey[];
  names: BlockedKey[];
  /** attempts refused as throttled since the broker started */
  throttled: number;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address; unknown ones share one key. */
export function addressKey(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}

export class LoginThrottle {
  private readonly keys: Record<ThrottleKind, Map<string, Entry>> = { address: new Map(), name: new Map() };
  private throttledTotal = 0;

  constructor(private readonly settings: ThrottleSettings) {}

  /** Whether a login from `address` as `name` may be checked now; `name` undefined for admin requests. */
  check(name: string | undefined, address: string, now = Date.now()): Blocked | undefined {
    for (const [kind, key] of [
      ['address', address],
      ['name', name],
    ] as const) {
      if (key === undefined) continue;
      const entry = this.current(kind, key, now);
      if (entry && entry.blockedUntil > now) {
        entry.throttled++;
        this.throttledTotal++;
        return { kind, key, retryInMs: entry.blockedUntil - now };
      }
    }
    return undefined;
  }

  /** A checked login failed: counts against its keys; returns the blocks this failure started. */
  failed(name: string | undefined, address: string | undefined, now = Date.now()): Blocked[] {
    const started: Blocked[] = [];
    for (const [kind, key] of [
      ['address', address],
      ['name', name],
    ] as const) {
      if (key === undefined) continue;
      const entry = this.current(kind, key, now) ?? {
        failures: 0,
        lastFailureAt: now,
        blockedUntil: 0,
        throttled: 0,
      };
      entry.failures++;
      entry.lastFailureAt = now;
      const over = entry.failures - this.settings.loginFreeFailures;
      if (over >= 0) {
        const wait = Math.min(
          this.settings.loginBackoffMaxMs,
          this.settings.loginBackoffMs * 2 ** Math.min(over, 40),
        );
        entry.blockedUntil = now + wait;
        started.push({ kind, key, retryInMs: wait });
      }
      this.remember(kind, key, entry);
    }
    return started;
  }

  /** A login succeeded: its name starts over (its address does not). */
  succeeded(name: string): void {
    this.keys.name.delete(name);
  }

  status(now = Date.now()): ThrottleStatus {
    const blocked = (kind: ThrottleKind): BlockedKey[] => {
      const out: BlockedKey[] = [];
      for (const [key, entry] of this.keys[kind]) {
        if (now - entry.lastFailureAt > this.settings.loginForgetMs && entry.blockedUntil <= now) {
          this.keys[kind].delete(key);
          continue;
        }
        if (entry.blockedUntil > now)
          out.push({
            key,
            failures: entry.failures,
            retryInMs: entry.blockedUntil - now,
            throttled: entry.throttled,
          });
      }
      return out.sort((a, b) => b.failures - a.failures).slice(0, 20);
    };
    return {
      scope: 'this broker instance',
      settings: { ...this.settings },
      addresses: blocked('address'),
      names: blocked('name'),
      throttled: this.throttledTotal,
    };
  }

  private current(kind: ThrottleKind, key: string, now: number): Entry | undefined {
    const entry = this.keys[kind].get(key);
    if (!entry) return undefined;
    if (now - entry.lastFailureAt > this.settings.loginForgetMs && entry.blockedUntil <= now) {
      this.keys[kind].delete(key);
      return undefined;
    }
    return entry;
  }

  private remember(kind: ThrottleKind, key: string, entry: Entry): void {
    const map = this.keys[kind];
    map.delete(key); // re-inserted last: the map's order is quiet-longest first
    map.set(key, entry);
    if (map.size > MAX_KEYS) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
}

/**
 * Login refusals as log lines: each one while they are few, then one summary a minute, so a
 * flood of bad tokens is a handful of lines, not a line per attempt. Every refusal is counted
 * in the status either way.
 */
export class RefusalLog {
  private windowStart: number;
  private logged = 0;
  private readonly suppressed = new Map<string, number>();
  private readonly fromAddresses = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly warn: (fields: Record<string, unknown>, message: string) => void,
    private readonly perMinute = 20,
    now = Date.now(),
  ) {
    this.windowStart = now;
    this.timer = setInterval(() => this.flush(), 60_000);
    this.timer.unref();
  }

  /** Logs `message` unless this minute's budget is spent; then counts it for the summary. */
  refused(
    reason: string,
    address: string,
    fields: Record<string, unknown>,
    message: string,
    now = Date.now(),
  ): void {
    if (now - this.windowStart >= 60_000) this.flush(now);
    if (this.logged < this.perMinute) {
      this.logged++;
      this.warn({ ...fields, reason }, message);
      return;
    }
    this.suppressed.set(reason, (this.suppressed.get(reason) ?? 0) + 1);
    if (this.fromAddresses.size < 1000 || this.fromAddresses.has(address))
      this.fromAddresses.set(address, (this.fromAddresses.get(address) ?? 0) + 1);
  }

  /** The summary of what was not logged one by one since the last one (also called by a timer). */
  flush(now = Date.now()): void {
    const total = [...this.suppressed.values()].reduce((a, b) => a + b, 0);
    if (total > 0) {
      const reasons = Object.fromEntries([...this.suppressed].sort((a, b) => b[1] - a[1]));
      const top = [...this.fromAddresses].sort((a, b) => b[1] - a[1]).slice(0, 5);
      this.warn(
        { reason: 'summary', suppressed: total, reasons, addresses: Object.fromEntries(top) },
        `${total} more logins refused in the last ${Math.round((now - this.windowStart) / 1000)} s, not logged one by one: ${Object.entries(
          reasons,
        )
          .map(([r, n]) => `${r} ${n}`)
          .join(', ')}; from ${top.map(([a, n]) => `${a} (${n})`).join(', ')}`,
      );
    }
    this.suppressed.clear();
    this.fromAddresses.clear();
    this.logged = 0;
    this.windowStart = now;
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
