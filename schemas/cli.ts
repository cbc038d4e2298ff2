import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { errorLine, IsaacError, UsageError } from './errors.ts';

/**
 * The command-line kit of the three programs (`isaac`, `isaac-node`, `isaac-broker`): one table of
 * exit statuses, one mapping from the error classes of errors.ts to it, one yargs set-up, one
 * version. README's "Exit statuses" section prints the table.
 */
export const EXIT = {
  /** done */
  ok: 0,
  /** the command ran and the answer is no: nothing found, declined, a check failed */
  failed: 1,
  /** bad command line or typed input (unknown command or flag, bad value, no network yet); nothing changed */
  usage: 2,
  /** `status` of an isaac-node or isaac-broker that is not running */
  notRunning: 3,
  /** the broker, a peer or the AI provider could not be reached, or answered nonsense */
  network: 69,
  /** a bug: an unexpected error (please report it) */
  internal: 70,
  /** the local database could not be opened or written */
  store: 74,
  /** `!exec` was queued for an offline machine: it has not run yet */
  queued: 75,
  /** a configuration file, key or value is invalid */
  config: 78,
  /** refused: a safety tier, a remote policy, a login or a signature check said no; nothing ran */
  refused: 126,
  /** interrupted by Ctrl-C */
  interrupted: 130,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** IsaacError `code` -> exit status; an IsaacError with any other code exits EXIT.failed. */
const STATUS_OF_CODE: Readonly<Record<string, ExitStatus>> = {
  USAGE: EXIT.usage,
  CONFIG: EXIT.config,
  NETWORK: EXIT.network,
  PROVIDER: EXIT.network,
  AUTH: EXIT.refused,
  PROTOCOL: EXIT.refused,
  STORE: EXIT.store,
  CANCELLED: EXIT.interrupted,
};

/** The exit status for an error that ended a command: the one place classes meet numbers. */
export function exitStatusOf(err: unknown): ExitStatus {
  if (!(err instanceof IsaacError)) return EXIT.internal;
  return STATUS_OF_CODE[err.code] ?? EXIT.failed;
}

let version: string | undefined;

/** package.json's version, read once (from the sources or from the bundle in node/dist). */
export function isaacVersion(): string {
  if (version !== undefined) return version;
  version = 'unknown';
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'isaac' && typeof pkg.version === 'string') {
        version = pkg.version;
        break;
      }
    }
    if (dirname(dir) === dir) break;
  }
  return version;
}

/**
 * A yargs parser with the programs' shared rules: strict (unknown flags and arguments are refused),
 * `--help`/`-h` on every command, `--version`, and every parse failure as one UsageError line that
 * names what was wrong. yargs is imported here, on first use, so `isaac -c` never pays for it.
 */
export async function commandLine(program: string, argv: string[], commands: string[] = []): Promise<Argv> {
  const { default: yargs } = await import('yargs');
  const parser = yargs(argv);
  return parser
    .scriptName(program)
    .strict()
    .exitProcess(false)
    .showHelpOnFail(false)
    .help('help', 'show this help')
    .alias('help', 'h')
    .version('version', 'print the version', `${program.split(' ')[0]} ${isaacVersion()}`)
    .wrap(Math.min(100, parser.terminalWidth() || 80))
    .fail((message, err) => {
      // errors thrown by a command's handler pass through; yargs' own (YError) become usage lines
      if (err && err.name !== 'YError') throw err;
      const command = argv.find((a) => !a.startsWith('-'));
      const help =
        command && commands.includes(command) ? `${program} ${command} --help` : `${program} --help`;
      let problem = message ?? err?.message ?? 'bad command line';
      // yargs checks commands and required arguments before unknown flags; a typo (--brokr) is the real problem
      if (!/^Unknown argument/.test(problem)) {
        const unknown = unknownFlags(argv, knownFlags(parser));
        if (unknown.length > 0) problem = `Unknown arguments: ${unknown.join(', ')}`;
      }
      throw new UsageError(usageProblem(problem, argv, commands), {
        hint: `see ${help}`,
      });
    });
}

/** The flags the parser knows in the command being parsed (yargs' getOptions, not in its types). */
function knownFlags(parser: Argv): Set<string> | undefined {
  const withOptions = parser as Argv & { getOptions?: () => { key?: Record<string, unknown> } };
  const keys = withOptions.getOptions?.().key;
  return keys ? new Set(Object.keys(keys)) : undefined;
}

/** Flags in argv (before `--`) that `known` lacks, as yargs names them (`frobnicate`, `z`). */
function unknownFlags(argv: string[], known: Set<string> | undefined): string[] {
  if (!known) return [];
  const end = argv.indexOf('--');
  const names = (end === -1 ? argv : argv.slice(0, end)).flatMap((arg) => {
    if (arg.startsWith('--')) return [arg.slice(2).split('=')[0]!.replace(/^no-/, '')];
    if (/^-[A-Za-z]/.test(arg)) return [...arg.slice(1).split('=')[0]!];
    return [];
  });
  return names.filter((name) => !known.has(name));
}

/** yargs' wording, rewritten to name flags as they were typed (`--frobnicate`, `-z`). */
function usageProblem(message: string, argv: string[], commands: string[]): string {
  const asTyped = (name: string): string => {
    if (commands.length > 0 && argv.find((a) => !a.startsWith('-')) === name) return `command ${name}`;
    const long = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (long) return `option --${name}`;
    if (name.length === 1 && argv.some((a) => /^-[^-]/.test(a) && a.includes(name))) return `option -${name}`;
    return `argument ${name}`;
  };
  const unknown = /^Unknown arguments?: (.+)$/s.exec(message);
  if (unknown) {
    const named = unknown[1]!.split(', ').map(asTyped);
    const command = named.find((n) => n.startsWith('command '));
    return `unknown ${command ?? named.join(', ')}`;
  }
  const missing = /^Missing required arguments?: (.+)$/s.exec(message);
  if (missing) {
    const flags = missing[1]!.split(', ').map((n) => `--${n}`);
    return `${flags.join(', ')} ${flags.length === 1 ? 'is' : 'are'} required`;
  }
  const noValue = /^Not enough arguments following: (.+)$/s.exec(message);
  if (noValue) return `${noValue[1]!.length === 1 ? '-' : '--'}${noValue[1]} needs a value`;
  if (/^Not enough non-option arguments/.test(message)) return 'an argument is missing';
  const choice = /Argument: (\S+), Given: (.+), Choices: (.+)$/s.exec(message);
  if (choice) return `invalid ${choice[1]} ${choice[2]!.trim()}: choose ${choice[3]!.trim()}`;
  return message.replace(/\s*\n\s*/g, '; ');
}

/**
 * A yargs `coerce` for a numeric flag: the number, or a UsageError naming the flag and the value
 * as typed (`--hours: "abc" is not a number`).
 */
export function numberFlag(flag: string, min?: number) {
  return (value: unknown): number => {
    const text = String(value);
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(n) || (min !== undefined && n < min)) {
      const want = min === undefined ? 'a number' : `a number of at least ${min}`;
      throw new UsageError(`--${flag}: ${JSON.stringify(text)} is not ${want}`);
    }
    return n;
  };
}

/**
 * Runs a program's main and exits with its status. An error becomes one line `program: ...` and the
 * status of its class. A reader that goes away (`| head -1`) ends the program quietly with status 0,
 * as SIGPIPE would, instead of an unhandled EPIPE.
 */
export function runProgram(program: string, main: () => Promise<number>): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    process.stderr.write(`${program}: cannot write the output: ${err.message}\n`);
    process.exit(EXIT.internal);
  });
  const exit = (status: number) => {
    // a write that already failed with EPIPE may not have emitted its 'error' yet
    const readerGone = (process.stdout.errored as NodeJS.ErrnoException | null)?.code === 'EPIPE';
    process.exit(readerGone ? EXIT.ok : status);
  };
  main().then(exit, (err: unknown) => {
    process.stderr.write(`${program}: ${errorLine(err)}\n`);
    exit(exitStatusOf(err));
  });
}
