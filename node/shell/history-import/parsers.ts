import { isUtf8 } from 'node:buffer';

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

/**
 * Splits a file into lines; a line that is not valid UTF-8 comes back as null.
 * The whole-buffer check keeps the common (valid) case to one decode.
 */
export function splitLines(buf: Buffer): Array<string | null> {
  if (isUtf8(buf)) return trimCr(buf.toString('utf8').split('\n'));
  const lines: Array<string | null> = [];
  let start = 0;
  while (start <= buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end === -1) end = buf.length;
    const line = buf.subarray(start, end);
    lines.push(isUtf8(line) ? line.toString('utf8') : null);
    start = end + 1;
  }
  return trimCr(lines);
}

function trimCr<T extends string | null>(lines: T[]): T[] {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line?.endsWith('\r')) lines[i] = line.slice(0, -1) as T;
  }
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Collects entries, applying the leading-space and garbage rules in one place. */
class Collector {
  readonly result: ParseResult = { entries: [], malformed: 0, skipped: 0 };

  add(command: string, tsSec?: number, extra: Omit<ParsedEntry, 'command' | 'tsSec'> = {}): void {
    if (command.trim() === '') return;
    if (command.startsWith(' ') || command.startsWith('\t')) {
      this.result.skipped++;
      return;
    }
    if (GARBAGE.test(command)) {
      this.result.malformed++;
      return;
    }
    this.result.entries.push({ command, ...(tsSec === undefined ? {} : { tsSec }), ...extra });
  }

  malformed(): void {
    this.result.malformed++;
  }
}

const BASH_TIMESTAMP = /^#(\d{1,12})$/;

/**
 * ~/.bash_history: one command per line, or with HISTTIMEFORMAT a `#<epoch>` line before each
 * entry. As bash itself does with timestamps, the lines up to the next timestamp form one
 * (multi-line) entry.
 */
export function parseBash(buf: Buffer): ParseResult {
  const out = new Collector();
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
  for (const line of splitLines(buf)) {
    if (line === null) {
      if (pending) pendingBroken = true;
      else out.malformed();
      continue;
    }
    const stamp = BASH_TIMESTAMP.exec(line);
    if (stamp) {
      flush();
      ts = Number(stamp[1]);
      pending = [];
      continue;
    }
    if (pending) {
      if (pending.length > 0 || line !== '') pending.push(line);
    } else {
      out.add(line);
    }
  }
  flush();
  return out.result;
}

const ZSH_HEADER = /^: *(\d{1,12}):(\d+);/;

/** zsh stores bytes 0x83..0x9f (and NUL) as 0x83 followed by the byte xor 32 ("metafied"). */
export function unmetafy(buf: Buffer): Buffer {
  let meta = buf.indexOf(0x83);
  if (meta === -1) return buf;
  const out = Buffer.allocUnsafe(buf.length);
  let o = 0;
  let i = 0;
  while (meta !== -1) {
    o += buf.copy(out, o, i, meta);
    if (meta + 1 < buf.length) out[o++] = buf[meta + 1]! ^ 32;
    i = meta + 2;
    meta = i < buf.length ? buf.indexOf(0x83, i) : -1;
  }
  if (i < buf.length) o += buf.copy(out, o, i);
  return out.subarray(0, o);
}

/**
 * ~/.zsh_history: extended `: <epoch>:<elapsed>;command` lines or plain lines; a line ending in
 * a backslash continues on the next (zsh's encoding of a newline inside a command). In a file of
 * extended entries, a line without the header (and not continuing an entry) is malformed.
 */
export function parseZsh(buf: Buffer): ParseResult {
  const out = new Collector();
  const lines = splitLines(unmetafy(buf));
  const extended = lines.some((l) => l !== null && ZSH_HEADER.test(l));
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
  for (const line of lines) {
    if (line === null) {
      if (continues && current) current.broken = true;
      else {
        flush();
        out.malformed();
      }
      continues = false;
      continue;
    }
    if (continues && current) {
      take(line);
      continue;
    }
    flush();
    if (extended) {
      const header = ZSH_HEADER.exec(line);
      if (!header) {
        // a missing or broken header spoils the whole entry, continuation lines included (counted once)
        continues = line.endsWith('\\');
        if (continues) current = { parts: [], broken: true };
        else if (line.trim() !== '') out.malformed();
        continue;
      }
      current = { parts: [], ts: Number(header[1]), elapsedSec: Number(header[2]), broken: false };
      take(line.slice(header[0].length));
    } else {
      current = { parts: [], broken: false };
      take(line);
    }
  }
  flush();
  return out.result;
}

/** fish escapes backslash and newline in `cmd:` values; anything else stays as written. */
export function unescapeFish(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\([\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** ~/.local/share/fish/fish_history: `- cmd: ...` entries with `  when: <epoch>` and `  paths:`. */
export function parseFish(buf: Buffer): ParseResult {
  const out = new Collector();
  let current: { command: string; ts?: number; broken: boolean } | undefined;
  let orphan = false; // inside an entry whose first line was unusable
  const flush = (): void => {
    if (current) {
      if (current.broken) out.malformed();
      else out.add(current.command, current.ts);
    }
    current = undefined;
  };
  for (const line of splitLines(buf)) {
    if (line === null) {
      if (current) current.broken = true;
      else if (!orphan) out.malformed();
      continue;
    }
    if (line.startsWith('- ')) {
      flush();
      orphan = false;
      if (line.startsWith('- cmd: ')) current = { command: unescapeFish(line.slice(7)), broken: false };
      else {
        out.malformed();
        orphan = true;
      }
      continue;
    }
    if (line.startsWith(' ')) {
      if (!current) continue;
      const when = /^ {2}when: *(.*)$/.exec(line);
      if (when) {
        const value = when[1]!.trim();
        if (/^\d{1,12}$/.test(value)) current.ts = Number(value);
        else current.broken = true;
      }
      continue;
    }
    if (line.trim() === '') continue;
    flush();
    out.malformed();
  }
  flush();
  return out.result;
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
