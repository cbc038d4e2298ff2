import type { CommandIO } from './types.ts';

/** Prints rows as aligned columns, the last column left free to wrap. */
export function printTable(io: CommandIO, header: string[], rows: string[][]): void {
  const all = header.some((h) => h.length > 0) ? [header, ...rows] : rows;
  const widths = header.map((_, col) => Math.max(...all.map((r) => (r[col] ?? '').length)));
  for (const row of all) {
    const cells = row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)));
    io.out(`${cells.join('  ').trimEnd()}\n`);
  }
}

/** "14:02", "yesterday 09:13" or "2026-11-03 09:13": short and unambiguous. */
export function formatWhen(ts: number, now: number = Date.now()): string {
  const date = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const dayStart = new Date(now);
  dayStart.setHours(0, 0, 0, 0);
  if (ts >= dayStart.getTime()) return time;
  if (ts >= dayStart.getTime() - 86_400_000) return `yesterday ${time}`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
}
