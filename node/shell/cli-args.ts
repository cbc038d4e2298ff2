import type { Argv } from 'yargs';
import { commandLine, EXIT, numberFlag } from '../../schemas/cli.ts';
import { UsageError } from '../../schemas/errors.ts';

/** What `isaac` was asked to do: run LINE, run WORDS (a subcommand or a request for the AI), or read stdin. */
export interface IsaacArgs {
  assumeYes: boolean;
  line?: string;
  words: string[];
}

const USAGE = `$0 [--yes] [-c LINE]      the shell, one LINE, or a script on stdin
$0 tier [--json] LINE     a line's safety tier (--explain: the rule)
$0 import [SHELL] [FILE]  import a bash, zsh or fish history
$0 invite NAME            print an invite for machine NAME to join
$0 revoke NAME            remove machine NAME from the network
$0 WORDS...               ask the AI, in natural language`;

const LINES = `Lines: /command (Isaac), !command (other machines), isaac WORDS (AI), anything else (your shell).
Environment: ISAAC_HOME (default ~/.isaac). \`isaac COMMAND --help\` explains each command.`;

/** Words after a request's first word, and a tier LINE, are taken as typed (`isaac tier rm -rf /`). */
const AS_TYPED = { 'halt-at-non-option': true, 'parse-positional-numbers': false } as const;

type Subcommand = (argv: string[]) => Promise<string[] | number>;

/**
 * The subcommands of the command line. Each parses its own flags (strict, with --help) and hands
 * runIsaacArgs the same words a person could type at the prompt.
 */
const SUBCOMMANDS: Record<string, Subcommand> = {
  tier: (argv) =>
    parsed(
      'isaac tier',
      argv,
      (y) =>
        y
          .parserConfiguration(AS_TYPED)
          .usage("$0 [--json] [--explain] LINE\n\nShow a line's safety tier and why, without running it.")
          .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
          .option('explain', {
            type: 'boolean',
            default: false,
            describe: 'also show the rule that decided',
          }),
      (a) => {
        if (a._.length === 0)
          throw new UsageError('give the LINE to classify', { hint: 'isaac tier "rm -rf build"' });
        const flags = [...(a.json === true ? ['--json'] : []), ...(a.explain === true ? ['--explain'] : [])];
        return ['tier', ...flags, '--', ...a._.map(String)];
      },
    ),
  import: (argv) =>
    parsed(
      'isaac import',
      argv,
      (y) =>
        y
          .usage(
            '$0 [SHELL] [FILE]\n\nImport a shell history file into Isaac (idempotent). SHELL: bash, zsh, fish or auto.',
          )
          .command('$0 [shell] [file]', false)
          .positional('shell', { type: 'string', describe: 'bash, zsh, fish or auto (the default)' })
          .positional('file', {
            type: 'string',
            describe: 'the history file (default: the shell’s usual one)',
          }),
      (a) => ['import', ...[a.shell, a.file].filter((w): w is string => typeof w === 'string')],
    ),
  invite: (argv) =>
    parsed(
      'isaac invite',
      argv,
      (y) =>
        y
          .usage('$0 NAME [--hours N]\n\nPrint a one-time invite code for machine NAME (admins only).')
          .command('$0 <name>', false)
          .positional('name', { type: 'string', describe: 'the new machine’s name' })
          .option('hours', {
            type: 'string',
            requiresArg: true,
            coerce: numberFlag('hours', 1),
            describe: 'hours until the invite expires',
          }),
      (a) => ['invite', String(a.name), ...(a.hours === undefined ? [] : ['--hours', String(a.hours)])],
    ),
  revoke: (argv) =>
    parsed(
      'isaac revoke',
      argv,
      (y) =>
        y
          .usage('$0 NAME [--rotate]\n\nRemove machine NAME from the network (admins only); asks first.')
          .command('$0 <name>', false)
          .positional('name', { type: 'string', describe: 'the machine to revoke' })
          .option('rotate', { type: 'boolean', default: false, describe: 'also rotate the network key' }),
      (a) => ['revoke', String(a.name), ...(a.rotate === true ? ['--rotate'] : [])],
    ),
};

/** Parses with yargs; `--help`/`--version` print and give their status instead of words. */
async function parsed(
  program: string,
  argv: string[],
  define: (y: Argv) => Argv,
  words: (a: { [flag: string]: unknown; _: (string | number)[] }) => string[],
): Promise<string[] | number> {
  const a = await define(await commandLine(program, argv)).parseAsync();
  if (a.help || a.version) return EXIT.ok;
  return words(a);
}

/**
 * `isaac`'s command line (everything but the fast path in cli.ts): isaac's own flags come first;
 * the first word picks a subcommand, or starts a request for the AI taken as typed.
 */
export async function parseIsaacArgs(argv: string[]): Promise<IsaacArgs | number> {
  const top = await (await commandLine('isaac', argv, Object.keys(SUBCOMMANDS)))
    .parserConfiguration(AS_TYPED)
    .usage(USAGE)
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'answer yes to confirmations' })
    .option('c', { type: 'string', requiresArg: true, describe: 'run one LINE and exit with its status' })
    .epilogue(LINES)
    .parseAsync();
  if (top.help || top.version) return EXIT.ok;
  const rest = top._.map(String);
  if (top.c !== undefined) {
    if (rest.length > 0)
      throw new UsageError(`unexpected argument ${rest[0]} after -c LINE`, { hint: 'quote the whole line' });
    return { assumeYes: top.yes, line: top.c, words: [] };
  }
  const [first, ...after] = rest;
  const subcommand = first === undefined ? undefined : SUBCOMMANDS[first];
  if (!subcommand) return { assumeYes: top.yes, words: rest };
  const words = await subcommand(after);
  return typeof words === 'number' ? words : { assumeYes: top.yes, words };
}
