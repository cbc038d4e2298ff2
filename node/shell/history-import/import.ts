import { hash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { UsageError } from '../../../schemas/errors.ts';
import type { NewCommand } from '../../core/store/history.ts';
import { redactSecrets } from '../../core/store/redact.ts';
import type { Store } from '../../core/store/store.ts';
import { readAtuinHistory } from './atuin.ts';
import { fileChunks, LineSplitter, Unmetafier } from './lines.ts';
import { defaultHistoryFile, detectShell } from './locate.ts';
import {
  type HistoryShell,
  lineParser,
  type ParseCounts,
  type ParsedEntry,
  sniffFormat,
  ZSH_HEADER,
} from './parsers.ts';

export interface ImportOptions {
  shell: HistoryShell | 'auto';
  /** The history file; default: the shell's own file ($HISTFILE, $ZDOTDIR, $XDG_DATA_HOME honoured). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Called after each batch with entries processed so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Atuin: also the rows other hosts recorded (default: this host's only). */
  allHosts?: boolean;
}

export interface ImportSummary {
  shell: HistoryShell;
  file: string;
  /** New rows in the store. */
  imported: number;
  /** Entries already imported before (same shell, time or position, and command). */
  duplicates: number;
  /** Lines or entries that could not be read and were skipped. */
  malformed: number;
  /** Entries typed with a leading space, deliberately left out. */
  skipped: number;
  /** Atuin: rows deleted in Atuin, left out. */
  deleted?: number;
  /** Atuin: rows of other hosts, left out (import them there, or pass --all-hosts). */
  otherHosts?: number;
}

const BATCH = 5_000;

/**
 * Imports a shell history file into this machine's series, idempotently: every entry carries an
 * import key, so importing the same file again adds nothing. Everything goes through the store,
 * which redacts secrets. A missing or unreadable file is a UsageError and changes nothing.
 * A history file is read twice, 64 KiB at a time, and never held whole: once to count its
 * entries and find its first timestamp (the times of the entries before it depend on both),
 * once to import them.
 */
export async function importHistory(store: Store, options: ImportOptions): Promise<ImportSummary> {
  const env = options.env ?? process.env;
  const source = resolveSource(options, env);
  const { shell, file } = source;
  let plan: { total: number; counts: ParseCounts & { deleted?: number; otherHosts?: number } };
  let entries: () => Iterable<ParsedEntry>;
  let times: (index: number, entry: ParsedEntry) => number;
  if (shell === 'atuin') {
    const parsed = readAtuinHistory(
      file,
      options.allHosts === undefined ? {} : { allHosts: options.allHosts },
    );
    const all = entryTimes(parsed.entries, source.mtimeMs);
    plan = { total: parsed.entries.length, counts: parsed };
    entries = () => parsed.entries;
    times = (index) => all[index]!;
  } else {
    const scan = scanFile(source, shell);
    plan = scan;
    entries = () => fileEntries(source, shell, scan.zshExtended);
    times = streamTimes(scan.firstStamped, scan.total, scan.anchorMs);
  }
  const { total, counts } = plan;
  const summary: ImportSummary = {
    shell,
    file,
    imported: 0,
    duplicates: 0,
    malformed: counts.malformed,
    skipped: counts.skipped,
    ...(counts.deleted === undefined ? {} : { deleted: counts.deleted }),
    ...(counts.otherHosts === undefined ? {} : { otherHosts: counts.otherHosts }),
  };
  // Each multi-row INSERT (history.ts recordMany) keeps a statement journal: the pages it changed,
  // a few MB each (the import keys' index is written all over). In memory that is 10-25 MB of the
  // import's peak; in a temporary file, a few writes per statement that the OS mostly buffers.
  const tempStore = store.db.pragma('temp_store', { simple: true });
  store.db.pragma('temp_store = FILE');
  try {
    return await importEntries(store, options, summary, { entries: entries(), times, total, shell });
  } finally {
    store.db.pragma(`temp_store = ${Number(tempStore)}`);
  }
}

/** The entries in batches of BATCH (one transaction each), keyed, redacted and timed. */
async function importEntries(
  store: Store,
  options: ImportOptions,
  summary: ImportSummary,
  plan: {
    entries: Iterable<ParsedEntry>;
    times: (index: number, entry: ParsedEntry) => number;
    total: number;
    shell: HistoryShell;
  },
): Promise<ImportSummary> {
  const { entries, times, total } = plan;
  const keys = new ImportKeys(plan.shell);
  options.onProgress?.(0, total);
  let batch: NewCommand[] = [];
  const flush = async (done: number): Promise<void> => {
    const added = store.history.recordMany(batch);
    summary.imported += added;
    summary.duplicates += batch.length - added;
    batch = [];
    options.onProgress?.(done, total);
    await yieldToLoop();
  };
  let i = 0;
  for (const parsed of entries) {
    if (i >= total) break; // the file changed between the two readings
    // redacted here too, so not even the import key is derived from a secret
    const entry = { ...parsed, command: redactSecrets(parsed.command) };
    batch.push({
      command: entry.command,
      ts: times(i, parsed),
      source: 'import',
      importKey: keys.next(entry, i),
      durationMs: entry.durationMs ?? null,
      exit: entry.exit ?? null,
      cwd: entry.cwd ?? null,
    });
    i++;
    if (batch.length >= BATCH) await flush(i);
  }
  if (batch.length > 0) await flush(i);
  return summary;
}

interface FileSource {
  shell: HistoryShell;
  file: string;
  /** Bytes to read: the file's length when it was opened, so both readings see the same lines. */
  size: number;
  mtimeMs: number;
}

interface FileScan {
  total: number;
  counts: ParseCounts;
  /** Index of the first entry with a time of its own, -1 for none. */
  firstStamped: number;
  /** That entry's time, or the file's mtime when no entry has one. */
  anchorMs: number;
  zshExtended: boolean;
}

/** The first reading: how many entries, where the first timestamp is, what was malformed. */
function scanFile(source: FileSource, shell: Exclude<HistoryShell, 'atuin'>): FileScan {
  const zshExtended = shell === 'zsh' && zshIsExtended(source);
  let total = 0;
  let firstStamped = -1;
  let anchorMs = source.mtimeMs;
  const all = fileEntries(source, shell, zshExtended);
  for (let next = all.next(); ; next = all.next()) {
    if (next.done) return { total, counts: next.value, firstStamped, anchorMs, zshExtended };
    const ms = msOf(next.value);
    if (firstStamped === -1 && ms !== undefined) {
      firstStamped = total;
      anchorMs = ms;
    }
    total++;
  }
}

/** A zsh history is "extended" when any of its lines has the `: time:elapsed;` header. */
function zshIsExtended(source: FileSource): boolean {
  let found = false;
  const splitter = new LineSplitter((line) => {
    if (!found && line !== null && ZSH_HEADER.test(line)) found = true;
  });
  const unmeta = new Unmetafier();
  for (const chunk of fileChunks(source.file, source.size)) {
    splitter.push(unmeta.push(chunk));
    if (found) return true;
  }
  splitter.end();
  return found;
}

/** The file's entries in order, parsed as they are read; returns the counts at the end. */
function* fileEntries(
  source: FileSource,
  shell: Exclude<HistoryShell, 'atuin'>,
  zshExtended: boolean,
): Generator<ParsedEntry, ParseCounts, undefined> {
  const ready: ParsedEntry[] = [];
  const parser = lineParser(shell, (entry) => ready.push(entry), zshExtended);
  const splitter = new LineSplitter((line) => parser.line(line));
  const unmeta = shell === 'zsh' ? new Unmetafier() : undefined;
  for (const chunk of fileChunks(source.file, source.size)) {
    splitter.push(unmeta ? unmeta.push(chunk) : chunk);
    yield* ready;
    ready.length = 0;
  }
  splitter.end();
  parser.end();
  yield* ready;
  return parser.counts;
}

const msOf = (e: ParsedEntry) => e.tsMs ?? (e.tsSec === undefined ? undefined : e.tsSec * 1000);

/** entryTimes, one entry at a time, from what the first reading found. */
function streamTimes(
  firstStamped: number,
  total: number,
  anchorMs: number,
): (index: number, entry: ParsedEntry) => number {
  const lead = firstStamped === -1 ? total : firstStamped;
  let last = anchorMs;
  return (index, entry) => {
    if (index < lead) return anchorMs - (lead - index);
    last = msOf(entry) ?? last;
    return last;
  };
}

function resolveSource(options: ImportOptions, env: NodeJS.ProcessEnv): FileSource {
  let shell: HistoryShell | 'auto' = options.shell;
  let file = options.file;
  if (shell === 'auto' && file === undefined) ({ shell, file } = detectShell(env));
  if (file === undefined && shell !== 'auto') file = defaultHistoryFile(shell, env);
  const path = file!;
  const { size, mtimeMs, head } = openHistoryFile(path, shell);
  if (shell === 'auto') shell = sniffFormat(head) ?? guessFromName(path);
  return { shell, file: path, size, mtimeMs: Math.floor(mtimeMs) };
}

function guessFromName(path: string): HistoryShell {
  const name = basename(path);
  if (name.includes('fish')) return 'fish';
  if (name.includes('zsh') || name === '.zhistory') return 'zsh';
  return 'bash';
}

/** What sniffFormat looks at. */
const HEAD_BYTES = 64 * 1024;

/** Checks that `file` is a readable file; its size, mtime and (for auto) first bytes. */
function openHistoryFile(
  file: string,
  shell: HistoryShell | 'auto',
): { size: number; mtimeMs: number; head: Buffer } {
  const named = shell === 'auto' ? 'shell' : shell;
  const retry = `isaac import ${shell === 'auto' ? 'bash|zsh|fish|atuin' : shell} FILE`;
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      throw new UsageError(`${file} is not a file`, { hint: `give the history file: ${retry}` });
    }
    // an Atuin database is opened by SQLite; a history file must open for reading here
    if (shell === 'atuin') return { size: st.size, mtimeMs: st.mtimeMs, head: Buffer.alloc(0) };
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(shell === 'auto' ? Math.min(HEAD_BYTES, st.size) : 0);
      let got = 0;
      while (got < head.length) {
        const n = readSync(fd, head, got, head.length - got, got);
        if (n === 0) break;
        got += n;
      }
      return { size: st.size, mtimeMs: st.mtimeMs, head: head.subarray(0, got) };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UsageError(`no ${named} history at ${file}`, { hint: `give the file: ${retry}` });
    }
    throw new UsageError(`cannot read ${file} (${code ?? (err as Error).message})`, {
      hint: `check its permissions, or give another file: ${retry}`,
      cause: err,
    });
  }
}

/**
 * Milliseconds for each entry. Timestamps from the file win; an entry without one takes the
 * previous entry's time, and entries before the first timestamp (or in a file without any) are
 * spaced 1 ms apart ending just before the first known time or the file's mtime, so the
 * history keeps the file's order.
 */
export function entryTimes(entries: readonly ParsedEntry[], mtimeMs: number): number[] {
  const times = new Array<number>(entries.length);
  const firstStamped = entries.findIndex((e) => msOf(e) !== undefined);
  const anchor = firstStamped === -1 ? mtimeMs : msOf(entries[firstStamped]!)!;
  const lead = firstStamped === -1 ? entries.length : firstStamped;
  for (let i = 0; i < lead; i++) times[i] = anchor - (lead - i);
  let last = anchor;
  for (let i = lead; i < entries.length; i++) {
    const ts = msOf(entries[i]!);
    if (ts !== undefined) last = ts;
    times[i] = last;
  }
  return times;
}

/**
 * Import key: hash of (shell, the file's timestamp or else the entry's position, command), plus
 * how often that same pair occurred before within the same second, so two identical commands
 * typed in one second stay two records while a re-import still maps onto the same keys.
 */
class ImportKeys {
  private second: number | undefined;
  private seen = new Map<string, number>();

  constructor(private readonly shell: HistoryShell) {}

  next(entry: ParsedEntry, index: number): string {
    let where: string;
    if (entry.sourceId !== undefined) where = `id:${entry.sourceId}`;
    else if (entry.tsSec === undefined) where = `#${index}`;
    else {
      if (entry.tsSec !== this.second) {
        this.second = entry.tsSec;
        this.seen.clear();
      }
      const n = this.seen.get(entry.command) ?? 0;
      this.seen.set(entry.command, n + 1);
      where = `${entry.tsSec}.${n}`;
    }
    return hash('sha1', `${this.shell}\0${where}\0${entry.command}`, 'base64url').slice(0, 22);
  }
}
