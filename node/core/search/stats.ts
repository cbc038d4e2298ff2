import { UsageError } from '../../../schemas/errors.ts';
import type { Db } from '../store/db.ts';

export const STATS_PERIODS = ['day', 'week', 'month', 'all'] as const;
export type StatsPeriod = (typeof STATS_PERIODS)[number];

export interface Bucket {
  label: string;
  from: number;
  to: number;
  count: number;
}

export interface HistoryStats {
  period: StatsPeriod;
  since: number | null;
  total: number;
  perMachine: { machine: string; count: number }[];
  topCommands: { command: string; count: number }[];
  activity: Bucket[];
}

const pad = (n: number) => String(n).padStart(2, '0');
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Local-time bucket boundaries: hours for a day, days for a week or month, months for all. */
function buckets(period: StatsPeriod, now: number, first: number | null): Omit<Bucket, 'count'>[] {
  const d = new Date(now);
  const out: Omit<Bucket, 'count'>[] = [];
  if (period === 'day') {
    for (let i = 23; i >= 0; i--) {
      const from = new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours() - i).getTime();
      const to = new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours() - i + 1).getTime();
      out.push({ label: `${pad(new Date(from).getHours())}:00`, from, to });
    }
    return out;
  }
  if (period === 'week' || period === 'month') {
    const days = period === 'week' ? 7 : 30;
    for (let i = days - 1; i >= 0; i--) {
      const from = new Date(d.getFullYear(), d.getMonth(), d.getDate() - i).getTime();
      const to = new Date(d.getFullYear(), d.getMonth(), d.getDate() - i + 1).getTime();
      const f = new Date(from);
      out.push({ label: `${WEEKDAYS[f.getDay()]} ${pad(f.getMonth() + 1)}-${pad(f.getDate())}`, from, to });
    }
    return out;
  }
  const start = new Date(first ?? now);
  let months = (d.getFullYear() - start.getFullYear()) * 12 + d.getMonth() - start.getMonth();
  months = Math.min(months, 23);
  for (let i = months; i >= 0; i--) {
    const from = new Date(d.getFullYear(), d.getMonth() - i, 1).getTime();
    const to = new Date(d.getFullYear(), d.getMonth() - i + 1, 1).getTime();
    const f = new Date(from);
    out.push({ label: `${f.getFullYear()}-${pad(f.getMonth() + 1)}`, from, to });
  }
  return out;
}

export function parsePeriod(text: string | undefined): StatsPeriod {
  const p = (text ?? 'week').toLowerCase();
  if ((STATS_PERIODS as readonly string[]).includes(p)) return p as StatsPeriod;
  throw new UsageError(`unknown period ${JSON.stringify(text)}`, {
    hint: `use one of: ${STATS_PERIODS.join(', ')}`,
  });
}

export function historyStats(db: Db, period: StatsPeriod, now: number = Date.now()): HistoryStats {
  const first = db.prepare<[], { ts: number | null }>('SELECT MIN(ts) AS ts FROM commands').get()?.ts ?? null;
  const activity = buckets(period, now, first);
  const since = period === 'all' ? null : activity[0]!.from;
  const from = since ?? Number.MIN_SAFE_INTEGER;
  const perMachine = db
    .prepare<[number], { machine: string; count: number }>(
      'SELECT origin AS machine, COUNT(*) AS count FROM commands WHERE ts >= ? GROUP BY origin ORDER BY count DESC, origin',
    )
    .all(from);
  const topCommands = db
    .prepare<[number], { command: string; count: number }>(
      `SELECT substr(ltrim(command), 1, instr(ltrim(command) || ' ', ' ') - 1) AS command, COUNT(*) AS count
       FROM commands WHERE ts >= ? GROUP BY 1 ORDER BY count DESC, command LIMIT 10`,
    )
    .all(from);
  const countRange = db.prepare<[number, number], { n: number }>(
    'SELECT COUNT(*) AS n FROM commands WHERE ts >= ? AND ts < ?',
  );
  const filled = activity.map((b) => ({ ...b, count: countRange.get(b.from, b.to)!.n }));
  const total = perMachine.reduce((sum, m) => sum + m.count, 0);
  return { period, since, total, perMachine, topCommands, activity: filled };
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar `value/max` of `width` cells, in eighths of a cell. */
export function bar(value: number, max: number, width: number): string {
  if (max <= 0 || value <= 0 || width <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

function table(rows: { name: string; count: number }[], columns: number): string {
  const nameWidth = Math.max(...rows.map((r) => r.name.length), 4);
  const countWidth = Math.max(...rows.map((r) => String(r.count).length));
  const barWidth = Math.max(4, Math.min(50, columns - nameWidth - countWidth - 6));
  const max = Math.max(...rows.map((r) => r.count));
  return rows
    .map(
      (r) =>
        `  ${r.name.padEnd(nameWidth)}  ${String(r.count).padStart(countWidth)}  ${bar(r.count, max, barWidth)}\n`,
    )
    .join('');
}

export function renderStats(stats: HistoryStats, columns: number): string {
  const title = stats.period === 'all' ? 'all time' : `the last ${stats.period}`;
  if (stats.total === 0) return `No commands in ${title}.\n`;
  let out = `${stats.total} commands in ${title}\n\nPer machine\n`;
  out += table(
    stats.perMachine.map((m) => ({ name: m.machine, count: m.count })),
    columns,
  );
  out += '\nTop commands\n';
  out += table(
    stats.topCommands.map((c) => ({ name: c.command || '(blank)', count: c.count })),
    columns,
  );
  out += `\nActivity (${stats.period === 'day' ? 'per hour' : stats.period === 'all' ? 'per month' : 'per day'})\n`;
  out += table(
    stats.activity.map((b) => ({ name: b.label, count: b.count })),
    columns,
  );
  return out;
}
