import { errorLine, UsageError } from '../../../schemas/errors.ts';
import { takeOptions } from '../../core/args.ts';
import type { CommandContext, CommandDef, CommandIO } from '../commands/types.ts';
import type { ImportSummary } from './import.ts';
import { isHistoryShell } from './locate.ts';

export const IMPORT_USAGE = 'isaac import bash|zsh|fish|atuin|auto [FILE]';

/**
 * `isaac import bash|zsh|fish|atuin|auto [FILE] [--all-hosts]`: imports a shell history file or
 * an Atuin database, drawing a progress bar on stderr when it is a terminal, and prints one
 * summary line. Exit 0 on success, 1 when the file cannot be read or the store fails (nothing
 * changed), 2 for bad arguments.
 */
export async function runImportCommand(args: string[], ctx: CommandContext): Promise<number> {
  let parsed: ReturnType<typeof takeOptions>;
  try {
    parsed = takeOptions(args, { 'all-hosts': 'boolean', help: 'boolean' });
  } catch (err) {
    ctx.io.err(`${errorLine(err)}\n`);
    return 2;
  }
  if (parsed.options.help) {
    ctx.io.out(`usage: ${IMPORT_USAGE} [--all-hosts]\n`);
    return 0;
  }
  const allHosts = parsed.options['all-hosts'] === true;
  const [shellArg = 'auto', file, ...extra] = parsed.rest;
  if (shellArg === '--help' || shellArg === '-h') {
    ctx.io.out(`usage: ${IMPORT_USAGE}\n`);
    return 0;
  }
  if ((shellArg !== 'auto' && !isHistoryShell(shellArg)) || extra.length > 0) {
    const problem = extra.length > 0 ? `unexpected argument ${extra[0]}` : `unknown shell ${shellArg}`;
    ctx.io.err(`${new UsageError(problem, { hint: `usage: ${IMPORT_USAGE}` }).toLine()}\n`);
    return 2;
  }
  const bar = ctx.io.isTTY ? new ProgressBar(ctx.io) : undefined;
  let summary: ImportSummary;
  try {
    // the importer (and Atuin's reader) loads when an import runs, not with the command list
    const { importHistory } = await import('./import.ts');
    summary = await importHistory(ctx.store, {
      shell: shellArg,
      ...(file === undefined ? {} : { file }),
      env: ctx.env,
      ...(allHosts ? { allHosts } : {}),
      ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, total) } : {}),
    });
  } catch (err) {
    bar?.clear();
    ctx.io.err(`isaac import: ${errorLine(err)}\n`);
    return 1;
  }
  bar?.clear();
  ctx.io.out(`${summaryLine(summary)}\n`);
  return 0;
}

/** `isaac import` in the command registry. */
export const IMPORT_COMMAND: CommandDef = {
  name: 'import',
  usage: IMPORT_USAGE,
  options: [{ flag: '--all-hosts', help: 'atuin: also the rows of other hosts (default: this one’s)' }],
  summary:
    'import a bash, zsh or fish history file or an Atuin database (auto: your shell’s); ' +
    'importing again adds nothing',
  run: runImportCommand,
};

export function summaryLine(s: ImportSummary): string {
  const notes = [`${s.duplicates} already imported`, `${s.malformed} malformed skipped`];
  if (s.skipped > 0) notes.push(`${s.skipped} space-prefixed skipped`);
  if (s.deleted) notes.push(`${s.deleted} deleted in Atuin skipped`);
  if (s.otherHosts) notes.push(`${s.otherHosts} from other hosts skipped (--all-hosts takes them)`);
  const noun = s.imported === 1 ? 'command' : 'commands';
  return `imported ${s.imported} ${noun} from ${s.shell} history ${s.file} (${notes.join(', ')})`;
}

/** An in-place `\r` progress bar, redrawn at most every 100 ms. */
class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly io: CommandIO) {}

  update(done: number, total: number): void {
    const now = Date.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = Math.max(10, Math.min(40, this.io.columns - 30));
    const ratio = total === 0 ? 1 : done / total;
    const filled = Math.round(ratio * width);
    const pct = String(Math.floor(ratio * 100)).padStart(3);
    this.io.err(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${done}/${total}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.io.err('\r\x1b[K');
    this.drawn = false;
  }
}
