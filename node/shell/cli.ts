import { runProgram } from '../../schemas/cli.ts';
import type { IsaacArgs } from './cli-args.ts';
import { EARLY_SHELL, isShellLine } from './line-kind.ts';
import type { ShellSession } from './pty-session.ts';

/**
 * The fast path: a plain start, `-c LINE` and `--yes` are read here, so `isaac -c` never loads
 * yargs (it costs more start-up time than the rest of `isaac -c true`). Anything else goes to the
 * full command line in cli-args.ts.
 */
function quickArgs(argv: string[]): IsaacArgs | undefined {
  const args: IsaacArgs = { assumeYes: false, words: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-y' || arg === '--yes') args.assumeYes = true;
    else if (arg === '-c' && args.line === undefined && argv[i + 1] !== undefined) args.line = argv[++i];
    else return undefined;
  }
  return args;
}

/**
 * For `isaac -c` with a shell line: bash (the default shell.program) starts before anything
 * else, so its start-up runs beside the loading of the rest of Isaac, the store's opening and
 * the tier check. A failure here is left for the normal start to report.
 */
async function spawnEarly(): Promise<ShellSession | undefined> {
  try {
    const { ShellSession } = await import('./pty-session.ts');
    return ShellSession.spawn({ interactive: false, shell: EARLY_SHELL });
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = quickArgs(argv) ?? (await (await import('./cli-args.ts')).parseIsaacArgs(argv));
  if (typeof parsed === 'number') return parsed;
  const early = parsed.line !== undefined && isShellLine(parsed.line) ? await spawnEarly() : undefined;
  // the store, the tiers and the router load here, while bash starts
  return (await import('./run.ts')).runIsaac(parsed, early);
}

runProgram('isaac', () => main(process.argv.slice(2)));
