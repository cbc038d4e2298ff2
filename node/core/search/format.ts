import type { SearchHit } from './search.ts';
import { relativeTime } from './when.ts';

const BOLD_YELLOW = '\x1b[1;33m';
const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

/**
 * A record may come from another machine, so it must not be able to drive our terminal:
 * control characters become visible one-character stand-ins (spans stay valid).
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => (c === '\n' ? '↵' : c === '\t' ? ' ' : '·'));
}

export function highlight(command: string, spans: readonly [number, number][], ansi: boolean): string {
  const text = printable(command);
  if (!ansi || spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    out += text.slice(at, start) + BOLD_YELLOW + text.slice(start, end) + RESET;
    at = end;
  }
  return out + text.slice(at);
}

export function shortenPath(dir: string | null, home: string | undefined): string {
  if (dir === null || dir === '') return '-';
  if (home && home !== '/' && (dir === home || dir.startsWith(`${home}/`)))
    return `~${dir.slice(home.length)}`;
  return dir;
}

export interface RowView {
  origin: string;
  ts: number;
  cwd: string | null;
  exit: number | null;
  command: string;
  spans?: [number, number][];
}

/** Aligned lines: machine, when, cwd, exit, command (highlighted on a TTY). */
export function formatRows(
  rows: readonly RowView[],
  options: { ansi: boolean; home?: string | undefined; now?: number },
): string {
  const now = options.now ?? Date.now();
  const cells = rows.map((r) => ({
    machine: r.origin,
    when: relativeTime(r.ts, now),
    cwd: printable(shortenPath(r.cwd, options.home)),
    exit: r.exit === null ? '-' : String(r.exit),
    failed: r.exit !== null && r.exit !== 0,
    command: highlight(r.command, r.spans ?? [], options.ansi),
  }));
  const width = (key: 'machine' | 'when' | 'cwd' | 'exit') => Math.max(...cells.map((c) => c[key].length));
  const w = {
    machine: width('machine'),
    when: width('when'),
    cwd: Math.min(width('cwd'), 40),
    exit: width('exit'),
  };
  return cells
    .map((c) => {
      const cwd = c.cwd.length > w.cwd ? `…${c.cwd.slice(-(w.cwd - 1))}` : c.cwd.padEnd(w.cwd);
      const exit = c.exit.padStart(w.exit);
      const parts = [
        c.machine.padEnd(w.machine),
        options.ansi ? DIM + c.when.padEnd(w.when) + RESET : c.when.padEnd(w.when),
        cwd,
        options.ansi && c.failed ? RED + exit + RESET : exit,
        c.command,
      ];
      return `${parts.join('  ')}\n`;
    })
    .join('');
}

/** One JSON object per line, for scripts. */
export function jsonLines(
  rows: readonly (RowView & { seq?: number; duration_ms?: number | null; kind?: string })[],
): string {
  return rows
    .map(
      (r) =>
        `${JSON.stringify({
          machine: r.origin,
          seq: r.seq,
          ts: r.ts,
          time: new Date(r.ts).toISOString(),
          cwd: r.cwd,
          exit: r.exit,
          duration_ms: r.duration_ms ?? null,
          command: r.command,
          kind: r.kind,
        })}\n`,
    )
    .join('');
}

export type { SearchHit };
