import type { Arg } from './expand.ts';

/**
 * Commands that run another command: `sudo -u root rm ...` is classified as `rm ...`. Each entry
 * names the options that take a value, so the first real word after them is found the way the
 * wrapper itself finds it.
 */

export interface WrapperSpec {
  /** Short option letters that take a value (`-u root`, `-uroot`). */
  short?: string;
  /** Long options that take a value when not written `--opt=value`. */
  long?: readonly string[];
  /** Positional words before the command (timeout's DURATION, chroot's NEWROOT). */
  positional?: number;
  /** `NAME=value` words before the command are environment settings. */
  assignments?: boolean;
  /** Runs the command as another user (usually root). */
  elevates?: boolean;
  /** Options are not parsed at all: the next word is the command. */
  noOptions?: boolean;
}

const WRAPPER_TABLE: Record<string, WrapperSpec> = {
  sudo: {
    short: 'ugCDhprtTUR',
    long: [
      '--user',
      '--group',
      '--close-from',
      '--chdir',
      '--host',
      '--prompt',
      '--role',
      '--type',
      '--other-user',
    ],
    assignments: true,
    elevates: true,
  },
  doas: { short: 'uC', elevates: true },
  pkexec: { long: ['--user'], elevates: true },
  run0: {
    short: 'uDg',
    long: ['--user', '--group', '--chdir', '--setenv', '--unit', '--property', '--nice'],
    elevates: true,
  },
  runuser: {
    short: 'ugGcsw',
    long: ['--user', '--group', '--supp-group', '--command', '--shell'],
    elevates: true,
  },
  su: {
    short: 'cgGsw',
    long: ['--command', '--group', '--supp-group', '--shell', '--whitelist-environment'],
    elevates: true,
  },
  env: { short: 'uCS', long: ['--unset', '--chdir', '--split-string'], assignments: true },
  nohup: { noOptions: true },
  builtin: { noOptions: true },
  exec: { short: 'a' },
  command: {},
  time: { short: 'fo', long: ['--format', '--output'] },
  nice: { short: 'n', long: ['--adjustment'] },
  ionice: { short: 'cnpPu', long: ['--class', '--classdata', '--pid', '--pgid', '--uid'] },
  timeout: { short: 'sk', long: ['--signal', '--kill-after'], positional: 1 },
  stdbuf: { short: 'ioe', long: ['--input', '--output', '--error'] },
  setsid: {},
  unbuffer: {},
  caffeinate: { short: 'tw' },
  chrt: { positional: 1 },
  taskset: { positional: 1 },
  chroot: { long: ['--userspec', '--groups'], positional: 1, elevates: true },
  strace: { short: 'oepsuEIPbXaSU' },
  ltrace: { short: 'oepsuEnaA' },
  torsocks: { short: 'uPap' },
  proxychains: { short: 'f' },
  proxychains4: { short: 'f' },
  firejail: {},
  catchsegv: {},
  busybox: { noOptions: true },
  flock: { short: 'wEc', long: ['--timeout', '--conflict-exit-code', '--command'], positional: 1 },
  xargs: {
    short: 'aEdILnPs',
    long: [
      '--arg-file',
      '--delimiter',
      '--max-lines',
      '--max-args',
      '--max-procs',
      '--max-chars',
      '--process-slot-var',
    ],
  },
  'systemd-run': {
    short: 'pEMH',
    long: [
      '--unit',
      '--property',
      '--description',
      '--slice',
      '--uid',
      '--gid',
      '--nice',
      '--setenv',
      '--working-directory',
      '--on-active',
      '--on-calendar',
      '--machine',
      '--host',
    ],
  },
  script: {
    short: 'cEIOTBm',
    long: ['--command', '--echo', '--log-in', '--log-out', '--log-timing', '--logging-format'],
  },
  sg: { short: 'c', positional: 1 },
  unshare: { short: 'SGRw', long: ['--setuid', '--setgid', '--root', '--wd'] },
  nsenter: { short: 'tSGrw', long: ['--target', '--setuid', '--setgid'], elevates: true },
  setpriv: {
    long: [
      '--reuid',
      '--regid',
      '--groups',
      '--inh-caps',
      '--ambient-caps',
      '--bounding-set',
      '--securebits',
      '--selinux-label',
      '--apparmor-profile',
    ],
  },
  watch: { short: 'nq', long: ['--interval', '--equexit'] },
};

export const WRAPPERS: ReadonlyMap<string, WrapperSpec> = new Map(Object.entries(WRAPPER_TABLE));

export interface Unwrapped {
  /** Option letters and long option names seen (without values). */
  flags: Set<string>;
  /** Values of options that take one, by letter or long name. */
  values: Map<string, Arg>;
  /** The wrapped command (may be empty). */
  inner: Arg[];
}

export function unwrap(spec: WrapperSpec, args: readonly Arg[]): Unwrapped {
  const flags = new Set<string>();
  const values = new Map<string, Arg>();
  let k = 1;
  if (!spec.noOptions) {
    while (k < args.length) {
      const a = args[k]!.text;
      if (a === '--') {
        k++;
        break;
      }
      if (a === '-' && spec.assignments) {
        k++;
        continue;
      }
      if (!a.startsWith('-') || a.length < 2) break;
      k++;
      if (a.startsWith('--')) {
        const eq = a.indexOf('=');
        const name = eq < 0 ? a : a.slice(0, eq);
        flags.add(name);
        if (eq >= 0) values.set(name, { text: a.slice(eq + 1), dynamic: args[k - 1]!.dynamic });
        else if (spec.long?.includes(name) && k < args.length) values.set(name, args[k++]!);
        continue;
      }
      for (let c = 1; c < a.length; c++) {
        const letter = a[c]!;
        flags.add(letter);
        if (spec.short?.includes(letter)) {
          const attached = a.slice(c + 1);
          if (attached) values.set(letter, { text: attached, dynamic: args[k - 1]!.dynamic });
          else if (k < args.length) values.set(letter, args[k++]!);
          break;
        }
      }
    }
  }
  if (spec.assignments) {
    while (k < args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[k]!.text)) k++;
  }
  k += spec.positional ?? 0;
  return { flags, values, inner: args.slice(k) };
}

/** Shells whose `-c STRING` and stdin are parsed as a script. */
export const SHELLS = new Set([
  'sh',
  'bash',
  'zsh',
  'dash',
  'ksh',
  'mksh',
  'ash',
  'fish',
  'csh',
  'tcsh',
  'yash',
  'posh',
]);

/** Interpreters whose inline code (-c/-e) is scanned for shell commands it runs. */
const INTERPRETER_TABLE: Record<string, string> = {
  python: 'c',
  python2: 'c',
  python3: 'c',
  perl: 'eE',
  ruby: 'e',
  node: 'ep',
  nodejs: 'ep',
  php: 'r',
  lua: 'e',
  // awk's program is its first operand.
  awk: '',
  gawk: '',
  mawk: '',
  nawk: '',
};

export const INTERPRETERS: ReadonlyMap<string, string> = new Map(Object.entries(INTERPRETER_TABLE));

export const SSH_VALUE_OPTIONS = 'bcDEeFIiJLlmOopQRSWwB';
