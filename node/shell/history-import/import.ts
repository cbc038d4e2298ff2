import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { UsageError } from '../../../schemas/errors.ts';
import type { NewCommand } from '../../core/store/history.ts';
import { redactSecrets } from '../../core/store/redact.ts';
import type { Store } from '../../core/store/store.ts';
import { defaultHistoryFile, detectShell } from './locate.ts';
import { type HistoryShell, PARSERS, type ParsedEntry, sniffFormat } from './parsers.ts';

export interface ImportOptions {
  shell: HistoryShell | 'auto';
  /** The history file; default: the shell's own file ($HISTFILE, $ZDOTDIR, $XDG_DATA_HOME honoured). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Called after each batch with entries processed so far and the total. */
  onProgress?: (done: number, total: number) => void;
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
  const parsed = PARSERS[shell](buf);
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
): { shell: HistoryShell; file: string; buf: Buffer } {
  let shell: HistoryShell | 'auto' = options.shell;
  let file = options.file;
  if (shell === 'auto' && file === undefined) ({ shell, file } = detectShell(env));
  if (file === undefined && shell !== 'auto') file = defaultHistoryFile(shell, env);
  const path = file!;
  const buf = readHistoryFile(path, shell);
  if (shell === 'auto') shell = sniffFormat(buf) ?? guessFromName(path);
  return { shell, file: path, buf };
}

function guessFromName(path: string): HistoryShell {
  const name = basename(path);
  if (name.includes('fish')) return 'fish';
  if (name.includes('zsh') || name === '.zhistory') return 'zsh';
  return 'bash';
}

function readHistoryFile(file: string, shell: HistoryShell | 'auto'): Buffer {
  const named = shell === 'auto' ? 'shell' : shell;
  const retry = `isaac import ${shell === 'auto' ? 'bash|zsh|fish' : shell} FILE`;
  try {
    if (!statSync(file).isFile()) {
      throw new UsageError(`${file} is not a file`, { hint: `give the history file: ${retry}` });
    }
    return readFileSync(file);
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
  const firstStamped = entries.findIndex((e) => e.tsSec !== undefined);
  const anchor = firstStamped === -1 ? mtimeMs : entries[firstStamped]!.tsSec! * 1000;
  const lead = firstStamped === -1 ? entries.length : firstStamped;
  for (let i = 0; i < lead; i++) times[i] = anchor - (lead - i);
  let last = anchor;
  for (let i = lead; i < entries.length; i++) {
    const ts = entries[i]!.tsSec;
    if (ts !== undefined) last = ts * 1000;
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
    if (entry.tsSec === undefined) where = `#${index}`;
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
