import { type Line, splitLines, unmetafy } from './lines.ts';

/** One command as found in a shell's history file (or an Atuin database). */
export interface ParsedEntry {
  command: string;
  /** Seconds since epoch, when the file records it. */
  tsSec?: number;
  /** Milliseconds since epoch, when the source is that precise (Atuin); wins over tsSec. */
  tsMs?: number;
  /** How long it ran, when the source records it (zsh's elapsed seconds, Atuin). */
  durationMs?: number;
  exit?: number;
  cwd?: string;
  /** The source's own id for the entry (Atuin): the import key then derives from it alone. */
  sourceId?: string;
}

export interface ParseResult {
  entries: ParsedEntry[];
  /** Lines or entries that could not be read (invalid UTF-8, binary, broken header). */
  malformed: number;
  /** Entries typed with a leading space: the user chose not to record them. */
  skipped: number;
  /** Entries the source marks as deleted (Atuin): left out. */
  deleted?: number;
}

export type HistoryShell = 'bash' | 'zsh' | 'fish' | 'atuin';

/** Control characters other than tab: a line holding them is binary garbage, not a command. */
const GARBAGE = /[\x00-\x08\x0b-\x1f\x7f]/;

/** The counts of a parse; the entries themselves go to the parser's `emit` as they are found. */
export interface ParseCounts {
  malformed: number;
  skipped: number;
}

/**
 * A history format read line by line: `line()` for each line of the file in order (null: not
 * valid UTF-8), `end()` after the last. Entries go to `emit` as soon as they are complete, so a
 * file of any size streams through (history-import/import.ts); parseBash & co. collect them.
 */
export interface LineParser {
  line(line: Line): void;
  end(): void;
  readonly counts: ParseCounts;
}

/** Applies the leading-space and garbage rules in one place, then emits. */
class Collector {
  readonly counts: ParseCounts = { malformed: 0, skipped: 0 };

  constructor(private readonly emit: (entry: ParsedEntry) => void) {}

  add(command: string, tsSec?: number, extra: Omit<ParsedEntry, 'command' | 'tsSec'> = {}): void {
    if (command.trim() === '') return;
    if (command.startsWith(' ') || command.startsWith('\t')) {
      this.counts.skipped++;
      return;
    }
    if (GARBAGE.test(command)) {
      this.counts.malformed++;
      return;
    }
    this.emit({ command, ...(tsSec === undefined ? {} : { tsSec }), ...extra });
  }

  malformed(): void {
    this.counts.malformed++;
  }
}

const BASH_TIMESTAMP = /^#(\d{1,12})$/;

/**
 * ~/.bash_history: one command per line, or with HISTTIMEFORMAT a `#<epoch>` line before each
 * entry. As bash itself does with timestamps, the lines up to the next timestamp form one
 * (multi-line) entry.
 */
export function bashParser(emit: (entry: ParsedEntry) => void): LineParser {
  const out = new Collector(emit);
  let ts: number | undefined;
  let pending: string[] | undefined;
  let pendingBroken = false;
  const flush = (): void => {
    if (pending && pending.length > 0) {
      if (pendingBroken) out.malformed();
      else out.add(pending.join('\n'), ts);
    }
    pending = undefined;
    pendingBroken = false;
  };
  return {
    counts: out.counts,
    line(line) {
      if (line === null) {
        if (pending) pendingBroken = true;
        else out.malformed();
        return;
      }
      const stamp = BASH_TIMESTAMP.exec(line);
      if (stamp) {
        flush();
        ts = Number(stamp[1]);
        pending = [];
        return;
      }
      if (pending) {
        if (pending.length > 0 || line !== '') pending.push(line);
      } else {
        out.add(line);
      }
    },
    end: flush,
  };
}

export const ZSH_HEADER = /^: *(\d{1,12}):(\d+);/;

/**
 * ~/.zsh_history (lines already unmetafied): extended `: <epoch>:<elapsed>;command` lines or
 * plain lines; a line ending in a backslash continues on the next (zsh's encoding of a newline
 * inside a command). In a file of extended entries (`extended`: any line has the header), a line
 * without the header (and not continuing an entry) is malformed.
 */
export function zshParser(emit: (entry: ParsedEntry) => void, extended: boolean): LineParser {
  const out = new Collector(emit);
  let current: { parts: string[]; ts?: number; elapsedSec?: number; broken: boolean } | undefined;
  let continues = false;
  const flush = (): void => {
    if (current) {
      if (current.broken) out.malformed();
      else {
        const elapsed = current.elapsedSec;
        out.add(
          current.parts.join('\n'),
          current.ts,
          elapsed === undefined ? {} : { durationMs: elapsed * 1000 },
        );
      }
    }
    current = undefined;
  };
  const take = (text: string): void => {
    continues = text.endsWith('\\');
    current!.parts.push(continues ? text.slice(0, -1) : text);
  };
  return {
    counts: out.counts,
    line(line) {
      if (line === null) {
        if (continues && current) current.broken = true;
        else {
          flush();
          out.malformed();
        }
        continues = false;
        return;
      }
      if (continues && current) {
        take(line);
        return;
      }
      flush();
      if (extended) {
        const header = ZSH_HEADER.exec(line);
        if (!header) {
          // a missing or broken header spoils the whole entry, continuation lines included (counted once)
          continues = line.endsWith('\\');
          if (continues) current = { parts: [], broken: true };
          else if (line.trim() !== '') out.malformed();
          return;
        }
        current = { parts: [], ts: Number(header[1]), elapsedSec: Number(header[2]), broken: false };
        take(line.slice(header[0].length));
      } else {
        current = { parts: [], broken: false };
        take(line);
      }
    },
    end: flush,
  };
}

/** fish escapes backslash and newline in `cmd:` values; anything else stays as written. */
export function unescapeFish(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\([\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** ~/.local/share/fish/fish_history: `- cmd: ...` entries with `  when: <epoch>` and `  paths:`. */
export function fishParser(emit: (entry: ParsedEntry) => void): LineParser {
  const out = new Collector(emit);
  let current: { command: string; ts?: number; broken: boolean } | undefined;
  let orphan = false; // inside an entry whose first line was unusable
  const flush = (): void => {
    if (current) {
      if (current.broken) out.malformed();
      else out.add(current.command, current.ts);
    }
    current = undefined;
  };
  return {
    counts: out.counts,
    line(line) {
      if (line === null) {
        if (current) current.broken = true;
        else if (!orphan) out.malformed();
        return;
      }
      if (line.startsWith('- ')) {
        flush();
        orphan = false;
        if (line.startsWith('- cmd: ')) current = { command: unescapeFish(line.slice(7)), broken: false };
        else {
          out.malformed();
          orphan = true;
        }
        return;
      }
      if (line.startsWith(' ')) {
        if (!current) return;
        const when = /^ {2}when: *(.*)$/.exec(line);
        if (when) {
          const value = when[1]!.trim();
          if (/^\d{1,12}$/.test(value)) current.ts = Number(value);
          else current.broken = true;
        }
        return;
      }
      if (line.trim() === '') return;
      flush();
      out.malformed();
    },
    end: flush,
  };
}

/** A parser for `shell`; zsh needs to know whether the file is an extended history. */
export function lineParser(
  shell: Exclude<HistoryShell, 'atuin'>,
  emit: (entry: ParsedEntry) => void,
  zshExtended = false,
): LineParser {
  if (shell === 'zsh') return zshParser(emit, zshExtended);
  return shell === 'bash' ? bashParser(emit) : fishParser(emit);
}

/** A whole file's lines through `parser`, collecting the entries. */
function collect(
  lines: readonly Line[],
  make: (emit: (entry: ParsedEntry) => void) => LineParser,
): ParseResult {
  const entries: ParsedEntry[] = [];
  const parser = make((entry) => entries.push(entry));
  for (const line of lines) parser.line(line);
  parser.end();
  return { entries, ...parser.counts };
}

export function parseBash(buf: Buffer): ParseResult {
  return collect(splitLines(buf), bashParser);
}

export function parseZsh(buf: Buffer): ParseResult {
  const lines = splitLines(unmetafy(buf));
  const extended = lines.some((l) => l !== null && ZSH_HEADER.test(l));
  return collect(lines, (emit) => zshParser(emit, extended));
}

export function parseFish(buf: Buffer): ParseResult {
  return collect(splitLines(buf), fishParser);
}

export const PARSERS: Record<Exclude<HistoryShell, 'atuin'>, (buf: Buffer) => ParseResult> = {
  bash: parseBash,
  zsh: parseZsh,
  fish: parseFish,
};

/** Guesses the format from the content: fish entries, zsh extended headers, else plain lines. */
export function sniffFormat(buf: Buffer): HistoryShell | undefined {
  if (buf.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') return 'atuin';
  const head = buf.subarray(0, 64 * 1024).toString('latin1');
  if (/^- cmd: /m.test(head)) return 'fish';
  if (/^: *\d{1,12}:\d+;/m.test(head)) return 'zsh';
  if (/^#\d{9,12}$/m.test(head)) return 'bash';
  return undefined;
}
