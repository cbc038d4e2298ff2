import type { Arg } from './expand.ts';
import type { Word } from './syntax.ts';
import { unproven, type Walk } from './walk.ts';

/**
 * The strict (remote) mode's own checks, beside the notes the rest of the walk makes: programs
 * that run code by nature (build tools, package managers, editors, schedulers), options through
 * which a tool runs a command, programs named by a path outside the system's bin directories,
 * and variables that change what later commands run.
 */

const RUNS_CODE = new Set([
  'make',
  'gmake',
  'cmake',
  'ninja',
  'meson',
  'gradle',
  'mvn',
  'ant',
  'bazel',
  'just',
  'task',
  'rake',
  'npm',
  'npx',
  'yarn',
  'pnpm',
  'bun',
  'deno',
  'pip',
  'pip3',
  'pipx',
  'poetry',
  'uv',
  'gem',
  'bundle',
  'composer',
  'cargo',
  'go',
  'dotnet',
  'expect',
  'vi',
  'vim',
  'nvim',
  'view',
  'ex',
  'ed',
  'emacs',
  'nano',
  'micro',
  'code',
  'subl',
  'at',
  'batch',
  'crontab',
  'systemd-run',
  'tmux',
  'screen',
  'parallel',
  'alias',
  'trap',
  'enable',
  'hash',
  'shopt',
  'ssh',
  'mosh',
  'visudo',
  'sudoedit',
  'python',
  'python2',
  'python3',
  'perl',
  'ruby',
  'node',
  'nodejs',
  'php',
  'lua',
  'tclsh',
  'pwsh',
  'Rscript',
  'julia',
  'osascript',
  'irb',
  'ipython',
  'busybox',
  'install',
  'source',
  '.',
]);

/** Programs that create or replace files as their job (archives, compressors, patchers). */
const FILE_WRITERS = new Set([
  'tar',
  'bsdtar',
  'unzip',
  'zip',
  '7z',
  'cpio',
  'patch',
  'gzip',
  'gunzip',
  'bzip2',
  'bunzip2',
  'xz',
  'unxz',
  'zstd',
  'unzstd',
  'lz4',
  'split',
  'csplit',
  'ssh-keygen',
  'tcpdump',
  'script',
  'git-lfs',
  'dpkg-deb',
  'rpm2cpio',
  'ar',
  'unrar',
  'rar',
  'sponge',
  'ex',
  'ed',
]);

/** Options through which a tool runs a program of the caller's choosing or writes a file. */
const OPTION_ESCAPES: Record<string, RegExp> = {
  awk: /^(-i|--include|-f|--file|-E|--exec|-l|--load|-o|--pretty-print|-p|--profile|inplace)/,
  gawk: /^(-i|--include|-f|--file|-E|--exec|-l|--load|-o|--pretty-print|-p|--profile|inplace)/,
  sort: /^(-o|--output|-T|--temporary-directory|--compress-program)/,
  shuf: /^(-o|--output)/,
  iconv: /^(-o|--output)/,
  openssl: /^-out$|^-keyout$/,
  zip: /^(-TT|--unzip-command)/,
  tar: /^(--to-command|--checkpoint-action|-I$|--use-compress-program|-F$|--info-script|--new-volume-script|--rsh-command|--rmt-command)/,
  rsync: /^(-e$|--rsh|--rsync-path)/,
  man: /^(-P$|--pager|-H|--html)/,
  scp: /^-[SoF]$/,
  sftp: /^-[SoFD]$/,
  less: /^(-?\+|--?lesskey)/,
  journalctl: /^--pager/,
  curl: /^(-K$|--config|-o$|--output|-O$|--remote-name)/,
  wget: /^(-e$|--execute|-O$|--output-document|-i$|--input-file)/,
  systemctl: /^(edit|set-environment|import-environment|link|enable|preset|revert|daemon-reexec)$/,
};

/** sed commands `e cmd`, `w file`, `W file` and the s///e and s///w flags. */
const SED_RUNS_OR_WRITES =
  /(^|[;{}\n])\s*(\d+|\$|\/[^/]*\/)?(,\s*(\d+|\$|\/[^/]*\/))?\s*!?\s*[ewW](\s|$)|s(.)(?:(?!\6).)*\6(?:(?!\6).)*\6[gpiImM0-9]*[ew]/;

const SYSTEM_BIN = /^\/(usr\/)?(local\/)?s?bin\/[^/]+$/;

/** Variables whose value decides what a later command runs or loads. */
export const RUN_CHANGING_VARS =
  /^(BASH_ENV|ENV|PROMPT_COMMAND|PS[0-4]|LD_\w+|DYLD_\w+|PATH|SHELLOPTS|BASHOPTS|IFS|CDPATH|GLOBIGNORE|BASH_XTRACEFD|BASH_FUNC_\S*|PAGER|\w*_PAGER|MANPAGER|GIT_\w+|EDITOR|VISUAL|\w*_EDITOR|LESSOPEN|LESSCLOSE|PYTHON\w*|PERL5?\w*|NODE_OPTIONS|NODE_PATH|RUBYOPT|RUBYLIB|HOME|TMPDIR|\w*ASKPASS|XDG_\w+|ZDOTDIR|INPUTRC|HISTFILE|TERMINFO)\+?=/;

export function strictAssignments(words: readonly (Word | Arg)[], part: string, walk: Walk): void {
  if (!walk.strict) return;
  for (const w of words) {
    const m = RUN_CHANGING_VARS.exec(w.text);
    if (m) unproven(walk, part, `sets ${m[0].slice(0, -1)}, which changes what later commands run`);
  }
}

/** Called for every program the walk reaches, after its verdict; adds what strict mode cannot prove. */
export function strictProgram(
  name: string,
  args: readonly Arg[],
  part: string,
  walk: Walk,
  readOnly: boolean,
): void {
  if (!walk.strict) return;
  const path = args[0]?.text ?? name;
  if (path.includes('/') && !SYSTEM_BIN.test(path))
    unproven(walk, part, `runs ${path}, a program outside the system's bin directories`);
  const onlyAsks = args.length === 2 && /^(--?version|-V|--help|-h)$/.test(args[1]!.text);
  if (RUNS_CODE.has(name) && !onlyAsks && !readOnly)
    unproven(walk, part, `${name} runs code or commands of its own choosing`);
  if (FILE_WRITERS.has(name) && !onlyAsks && !readOnly)
    unproven(walk, part, `${name} creates or replaces files`);
  if (name === 'uniq' && args.slice(1).filter((a) => !a.text.startsWith('-')).length > 1)
    unproven(walk, part, 'uniq writes its second operand');
  if ((name === 'sed' || name === 'gsed') && args.slice(1).some((a) => SED_RUNS_OR_WRITES.test(a.text)))
    unproven(walk, part, 'the sed script runs commands or writes files');
  const option = OPTION_ESCAPES[name];
  if (option && args.slice(1).some((a) => option.test(a.text)))
    unproven(walk, part, `${name} is given an option that runs a program or writes a file`);
  if (
    ['env', 'export', 'declare', 'typeset', 'local', 'readonly', 'sudo', 'doas', 'systemd-run'].includes(name)
  )
    strictAssignments(args.slice(1), part, walk);
  if ((name === 'unset' || name === 'export') && args.some((a) => a.text === '-f' || a.text === '-n'))
    unproven(walk, part, `${name} changes shell functions`);
  if (name === 'set' && args.some((a) => /^[-+]o$|^-[a-z]*[kT]/.test(a.text)))
    unproven(walk, part, 'set changes shell options');
}
