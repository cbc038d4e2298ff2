import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { UsageError } from '../../../schemas/errors.ts';
import type { NewCommand } from '../../core/store/history.ts';
import { redactSecrets } from '../../core/store/redact.ts';
import type { Store } from '../../core/store/store.ts';
import { readAtuinHistory } from './atuin.ts';
import { defaultHistoryFile, detectShell } from './locate.ts';
import { type HistoryShell, PARSERS, type ParsedEntry, type ParseResult, sniffFormat } from './parsers.ts';

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
 */
export async function importHistory(store: Store, options: ImportOptions): Promise<ImportSummary> {
  const env = options.env ?? process.env;
  const { shell, file, buf } = resolveSource(options, env);
  const parsed: ParseResult & { otherHosts?: number } =
    shell === 'atuin'
      ? readAtuinHistory(file, options.allHosts === undefined ? {} : { allHosts: options.allHosts })
      : PARSERS[shell](buf!);
  const mtimeMs = Math.floor(statSync(file).mtimeMs);
  const times = entryTimes(parsed.entries, mtimeMs);
  const total = parsed.entries.length;
  const summary: ImportSummary = {
    shell,
    file,
    imported: 0,
    duplicates: 0,
    malformed: parsed.malformed,
    skipped: parsed.skipped,
    ...(parsed.deleted === undefined ? {} : { deleted: parsed.deleted }),
    ...(parsed.otherHosts === undefined ? {} : { otherHosts: parsed.otherHosts }),
  };
  const keys = new ImportKeys(shell);
  // INSERT OR IGNORE with FTS triggers keeps a statement journal per row; on disk that is ~15
  // pwrite calls a row (a third of the import's CPU). In memory it costs nothing.
  store.db.pragma('temp_store = MEMORY');
  options.onProgress?.(0, total);
  for (let start = 0; start < total; start += BATCH) {
    const batch: NewCommand[] = [];
    const end = Math.min(total, start + BATCH);
    for (let i = start; i < end; i++) {
      // redacted here too, so not even the import key is derived from a secret
      const entry = { ...parsed.entries[i]!, command: redactSecrets(parsed.entries[i]!.command) };
      batch.push({
        command: entry.command,
        ts: times[i]!,
        source: 'import',
        importKey: keys.next(entry, i),
        durationMs: entry.durationMs ?? null,
        exit: entry.exit ?? null,
        cwd: entry.cwd ?? null,
      });
    }
    const added = store.history.recordMany(batch);
    summary.imported += added;
    summary.duplicates += batch.length - added;
    options.onProgress?.(end, total);
    await yieldToLoop();
  }
  return summary;
}

function resolveSource(
  options: ImportOptions,
  env: NodeJS.ProcessEnv,
): { shell: HistoryShell; file: string; buf?: Buffer } {
  let shell: HistoryShell | 'auto' = options.shell;
  let file = options.file;
  if (shell === 'auto' && file === undefined) ({ shell, file } = detectShell(env));
  if (file === undefined && shell !== 'auto') file = defaultHistoryFile(shell, env);
  const path = file!;
  // an Atuin database is opened by SQLite, not read whole
  const buf = readHistoryFile(path, shell, shell === 'atuin');
  if (shell === 'auto') shell = sniffFormat(buf) ?? guessFromName(path);
  return { shell, file: path, buf };
}

function guessFromName(path: string): HistoryShell {
  const name = basename(path);
  if (name.includes('fish')) return 'fish';
  if (name.includes('zsh') || name === '.zhistory') return 'zsh';
  return 'bash';
}

function readHistoryFile(file: string, shell: HistoryShell | 'auto', checkOnly = false): Buffer {
  const named = shell === 'auto' ? 'shell' : shell;
  const retry = `isaac import ${shell === 'auto' ? 'bash|zsh|fish|atuin' : shell} FILE`;
  try {
    if (!statSync(file).isFile()) {
      throw new UsageError(`${file} is not a file`, { hint: `give the history file: ${retry}` });
    }
    return checkOnly ? Buffer.alloc(0) : readFileSync(file);
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
  const msOf = (e: ParsedEntry) => e.tsMs ?? (e.tsSec === undefined ? undefined : e.tsSec * 1000);
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
    return createHash('sha1')
      .update(`${this.shell}\0${where}\0${entry.command}`)
      .digest('base64url')
      .slice(0, 22);
  }
}
