import { UsageError } from '../../../schemas/errors.ts';

/**
 * Dates for `--since` / `--until`: ISO dates and times, `now`, `today`, `yesterday`,
 * `2 days ago`, `1 week ago`, `an hour ago`, and the short form `3h` / `2d` / `1w` / `30m`.
 * A spec names a span: `yesterday` is all of yesterday, `2026-11-20` all of that day, a relative
 * time a single instant. `--since` takes the start, `--until` the end (exclusive).
 */
export interface TimeSpan {
  from: number;
  to: number;
}

const UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const UNIT_WORDS: [RegExp, string][] = [
  [/^(s|sec|secs|second|seconds)$/, 's'],
  [/^(m|min|mins|minute|minutes)$/, 'm'],
  [/^(h|hr|hrs|hour|hours)$/, 'h'],
  [/^(d|day|days)$/, 'd'],
  [/^(w|wk|wks|week|weeks)$/, 'w'],
  [/^(mo|mon|month|months)$/, 'mo'],
  [/^(y|yr|yrs|year|years)$/, 'y'],
];

function unitOf(word: string): string | undefined {
  return UNIT_WORDS.find(([re]) => re.test(word))?.[1];
}

function startOfDay(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

function addDays(ms: number, days: number): number {
  const d = new Date(ms);
  return new Date(
    d.getFullYear(),
    d.getMonth(),
    d.getDate() + days,
    d.getHours(),
    d.getMinutes(),
    d.getSeconds(),
    d.getMilliseconds(),
  ).getTime();
}

function ago(amount: number, unit: string, now: number): number {
  if (unit === 'mo' || unit === 'y') {
    const d = new Date(now);
    const months = unit === 'mo' ? amount : amount * 12;
    d.setMonth(d.getMonth() - months);
    return d.getTime();
  }
  if (unit === 'd' || unit === 'w') return addDays(now, -(unit === 'd' ? amount : amount * 7));
  return now - amount * UNITS[unit]!;
}

export function parseTimeSpec(text: string, now: number = Date.now()): TimeSpan {
  const spec = text.trim().toLowerCase();
  const instant = (ms: number): TimeSpan => ({ from: ms, to: ms });
  if (spec === 'now') return instant(now);
  if (spec === 'today') return { from: startOfDay(now), to: addDays(startOfDay(now), 1) };
  if (spec === 'yesterday') return { from: addDays(startOfDay(now), -1), to: startOfDay(now) };

  const short = /^(\d+)\s*(s|m|h|d|w|mo|y)$/.exec(spec);
  if (short) return instant(ago(Number(short[1]), short[2]!, now));

  const relative = /^(\d+|an?|one)\s+([a-z]+)\s+ago$/.exec(spec);
  if (relative) {
    const unit = unitOf(relative[2]!);
    const amount = /^\d+$/.test(relative[1]!) ? Number(relative[1]) : 1;
    if (unit) return instant(ago(amount, unit, now));
  }
  const last = /^last\s+([a-z]+)$/.exec(spec);
  if (last) {
    const unit = unitOf(last[1]!);
    if (unit) return instant(ago(1, unit, now));
  }

  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(spec);
  if (date) {
    const [y, mo, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const start = new Date(y, mo - 1, d).getTime();
    const check = new Date(start);
    if (check.getFullYear() === y && check.getMonth() === mo - 1 && check.getDate() === d) {
      return { from: start, to: addDays(start, 1) };
    }
  }
  if (/^\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?$/.test(spec)) {
    const ms = Date.parse(spec.replace(' ', 'T').toUpperCase());
    if (Number.isFinite(ms)) return instant(ms);
  }
  throw new UsageError(`cannot read ${JSON.stringify(text)} as a date`, {
    hint: 'use e.g. 2026-11-20, 2026-11-20T14:30, yesterday, today, "2 days ago", 3h, 1w',
  });
}

/** `12s ago`, `5m ago`, `3h ago`, `4d ago`; older than 60 days: the date. */
export function relativeTime(ts: number, now: number = Date.now()): string {
  const diff = now - ts;
  if (diff < 0) return 'in future';
  if (diff < 5000) return 'just now';
  if (diff < 60_000) return `${Math.floor(diff / 1000)}s ago`;
  if (diff < 3_600_000) return `${Math.floor(diff / 60_000)}m ago`;
  if (diff < 86_400_000) return `${Math.floor(diff / 3_600_000)}h ago`;
  if (diff < 60 * 86_400_000) return `${Math.floor(diff / 86_400_000)}d ago`;
  return localDate(ts);
}

export function localDate(ts: number): string {
  const d = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
