import { type Arg, expandWords, staticOutput } from './expand.ts';
import type { Tier } from './rules.ts';
import { classifyTarget } from './targets.ts';
import {
  basename,
  higher,
  isDownloaded,
  overrideFloor,
  overrideOf,
  quoteForLine,
  ruleOf,
  type Site,
  unproven,
  type Verdict,
  type Walk,
  writtenText,
} from './walk.ts';
import { type Unwrapped, unwrap, WRAPPERS } from './wrappers.ts';

/**
 * Commands that run other commands, each read its own way: wrappers (sudo, env, xargs, ...),
 * shells and their -c strings or stdin, find's -exec and -delete, inline interpreter code.
 */

const ROOT_SHELL_FLAGS = ['i', 's', '--login', '--shell'];

export function evaluateWrapper(name: string, args: Arg[], site: Site, walk: Walk): Verdict {
  const spec = WRAPPERS.get(name)!;
  const u = unwrap(spec, args);
  const stringValue = RUNS_STRING.has(name) ? commandOption(u.values, args) : undefined;
  let inner: Verdict;
  if (name === 'command' && (u.flags.has('v') || u.flags.has('V'))) {
    return { tier: 1, reason: 'looks up a command', part: site.part };
  }
  if (stringValue) {
    const text = stringValue;
    inner = text.dynamic
      ? { tier: 3, reason: 'runs a command computed at run time', part: site.part }
      : walk.ops.nested(text.text, walk);
  } else if (name === 'env' && (u.values.get('S') ?? u.values.get('--split-string'))) {
    const split = (u.values.get('S') ?? u.values.get('--split-string'))!;
    inner = walk.ops.nested([split.text, ...u.inner.map(quoteForLine)].join(' '), walk);
  } else if (name === 'watch' || name === 'sg') {
    if (name === 'watch') unproven(walk, site.part, 'watch runs a command again and again');
    inner =
      u.inner.length === 0
        ? ruleOf(1, 'shows usage', site)
        : walk.ops.nested(u.inner.map((a) => a.text).join(' '), walk);
  } else if (u.inner.length === 0) {
    if (name === 'sudo' && (u.flags.has('e') || u.flags.has('--edit')))
      inner = ruleOf(3, 'edits files as root', site);
    else if (
      spec.elevates &&
      (ROOT_SHELL_FLAGS.some((f) => u.flags.has(f)) || name === 'su' || name === 'doas')
    ) {
      inner = ruleOf(3, 'opens a root shell', site);
    } else inner = ruleOf(1, name === 'sudo' ? 'checks or lists sudo rights' : 'runs nothing', site);
    return overrideFloor(name, inner, walk);
  } else {
    if (name === 'xargs') inner = evaluateXargs(u.inner, u, site, walk);
    else inner = walk.ops.evaluate(u.inner, site, walk);
  }
  if (!spec.elevates || inner.tier === 4) return overrideFloor(name, inner, walk);
  const floor = overrideOf(walk, name) ?? (inner.tier <= 1 ? 2 : 3);
  if (inner.tier >= floor) return inner;
  return { tier: floor, reason: `runs as root: ${inner.reason}`, part: inner.part };
}

/** xargs runs its command with arguments read from stdin or -a FILE: use them when the line fixes them. */
function evaluateXargs(inner: Arg[], u: Unwrapped, site: Site, walk: Walk): Verdict {
  unproven(walk, site.part, 'xargs runs a command with arguments read at run time');
  const command = inner.length > 0 ? inner : [{ text: 'echo', dynamic: false }];
  const innerSite = { ...site, piped: false, stdin: undefined, prev: undefined };
  const verdict = walk.ops.evaluate(command, innerSite, walk);
  const fromFile = u.values.get('a') ?? u.values.get('--arg-file');
  const input = fromFile ? substitutionText(fromFile, walk) : site.stdin;
  const split = u.flags.has('0') || u.flags.has('--null') ? /\0+/ : /\s+/;
  let items: string[] = [];
  if (input !== undefined) items = input.split(split).filter((t) => t.trim() !== '');
  else if (site.prev && !fromFile) {
    const prevArgs = expandWords(site.prev.words, walk);
    if (basename(prevArgs[0]?.text ?? '') === 'find') items = findStarts(prevArgs).starts;
  }
  if (items.length === 0) return verdict;
  const placeholder = u.values.get('I')?.text ?? (u.flags.has('i') ? '{}' : undefined);
  const withItems = placeholder
    ? items
        .slice(0, 16)
        .map((item) =>
          command.map((a) => ({ text: a.text.replaceAll(placeholder, item), dynamic: a.dynamic })),
        )
    : [[...command, ...items.slice(0, 16).map((text) => ({ text, dynamic: false }))]];
  let worst = verdict;
  for (const argv of withItems)
    worst = higher(worst, walk.ops.evaluate(argv, { ...innerSite, topLevel: false }, walk));
  return worst;
}

const RUNS_STRING = new Set(['su', 'runuser', 'flock', 'script', 'sg']);

/** `-c CMD` may follow the user or lock file (`su root -c CMD`, `flock FILE -c CMD`). */
function commandOption(values: Map<string, Arg>, args: readonly Arg[]): Arg | undefined {
  const direct = values.get('c') ?? values.get('--command');
  if (direct) return direct;
  for (let k = 1; k < args.length - 1; k++) {
    if (args[k]!.text === '-c' || args[k]!.text === '--command') return args[k + 1];
  }
  const joined = args.find((a) => a.text.startsWith('--command='));
  return joined ? { text: joined.text.slice(10), dynamic: joined.dynamic } : undefined;
}

export function evaluateShell(name: string, args: Arg[], site: Site, walk: Walk): Verdict {
  let commandString = false;
  let readsStdin = false;
  let k = 1;
  for (; k < args.length; k++) {
    const a = args[k]!.text;
    if (a === '--' || a === '-') {
      k++;
      break;
    }
    if (!/^[-+]/.test(a) || a.length < 2) break;
    if (a === '--rcfile' || a === '--init-file' || /^[-+][oO]$/.test(a)) {
      k++;
      continue;
    }
    if (a.startsWith('--')) continue;
    if (a.includes('c')) commandString = true;
    if (a.includes('s')) readsStdin = true;
  }
  const operand = args[k];
  if (commandString) {
    if (!operand) return ruleOf(2, `starts ${name}`, site);
    if (operand.dynamic) return ruleOf(3, 'runs a command string computed at run time', site);
    return overrideFloor(name, walk.ops.nested(operand.text, walk, args.slice(k + 1)), walk);
  }
  if (operand && !readsStdin && !STDIN_FILES.test(operand.text)) {
    unproven(walk, site.part, `${name} runs a script the policy cannot read`);
    return scriptVerdict(name, operand, site, walk, args.slice(k + 1));
  }
  unproven(walk, site.part, `${name} runs commands from its input`);
  if (site.stdin !== undefined) {
    const inner = walk.ops.nested(site.stdin, walk);
    return overrideFloor(
      name,
      higher({ tier: 2, reason: 'runs a script from its input', part: site.part }, inner),
      walk,
    );
  }
  if (site.piped) {
    const source = site.from && !site.from.includes('$') ? basename(site.from) : 'another program';
    return shellRule(name, 3, `runs whatever ${source} outputs as commands`, site, walk);
  }
  return shellRule(name, 2, `starts ${name}`, site, walk);
}

/** Paths that are the reader's own stdin: `source /dev/stdin` runs what the pipe carries. */
export const STDIN_FILES = /^(\/dev\/stdin|\/dev\/fd\/0|\/proc\/self\/fd\/0|-)$/;

/** The text a process substitution `<(...)` will produce, when the line fixes it. */
export function substitutionText(arg: Arg, walk: Walk): string | undefined {
  const parts = arg.word?.parts;
  if (parts?.length !== 1 || parts[0]!.kind !== 'cmd' || !arg.text.startsWith('<(')) return undefined;
  return staticOutput(parts[0]!.inner, walk);
}

/** A script given by path, process substitution or download, run by a shell or `source`. */
export function scriptVerdict(
  name: string,
  operand: Arg,
  site: Site,
  walk: Walk,
  positional: readonly Arg[] = [],
): Verdict {
  if (operand.dynamic) {
    const text = substitutionText(operand, walk);
    if (text === undefined)
      return ruleOf(3, 'runs a script produced by another command', site, 'unseen script');
    return overrideFloor(name, walk.ops.nested(text, walk, [operand, ...positional]), walk);
  }
  if (isDownloaded(operand.text, walk)) {
    return ruleOf(
      3,
      `runs ${operand.text}, downloaded on this line without being read`,
      site,
      'downloaded script',
    );
  }
  const written = writtenText(operand.text, walk);
  if (written !== undefined)
    return overrideFloor(name, walk.ops.nested(written, walk, [operand, ...positional]), walk);
  return shellRule(name, 2, `runs the script ${operand.text}`, site, walk);
}

/** `source FILE` / `. FILE`: the file runs in this very shell. */
export function sourceVerdict(name: string, args: Arg[], site: Site, walk: Walk): Verdict {
  unproven(walk, site.part, `${name} runs a file's commands in the shell`);
  const operand = args[1];
  if (!operand) return ruleOf(1, 'runs nothing', site);
  if (STDIN_FILES.test(operand.text)) {
    if (site.stdin !== undefined)
      return higher(ruleOf(2, 'runs commands from its input', site), walk.ops.nested(site.stdin, walk));
    if (site.piped)
      return ruleOf(
        3,
        `runs whatever ${site.from ? basename(site.from) : 'another program'} outputs as commands`,
        site,
        'shell fed by a pipe',
      );
  }
  return scriptVerdict(name, operand, site, walk, args.slice(2));
}

function shellRule(name: string, tier: Tier, reason: string, site: Site, walk: Walk): Verdict {
  const override = overrideOf(walk, name);
  if (override === undefined) return ruleOf(tier, reason, site);
  return ruleOf(override, `${reason} (tier.${name} is ${override})`, site);
}

export function findStarts(args: readonly Arg[]): { starts: string[]; k: number } {
  const starts: string[] = [];
  let k = 1;
  while (k < args.length && /^-[HLP]$|^-[DO]/.test(args[k]!.text)) k += /^-D$/.test(args[k]!.text) ? 2 : 1;
  for (; k < args.length && !/^[-(!]/.test(args[k]!.text); k++) starts.push(args[k]!.text);
  if (starts.length === 0) starts.push('.');
  return { starts, k };
}

const FIND_FILTERS =
  /^-(i?name|i?path|i?wholename|i?regex|i?lname|newer\w*|[acm](time|min)|size|user|group|uid|gid|nouser|nogroup|perm|empty|links|inum|samefile|executable|readable|writable)$/;

const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);

export function findExec(args: Arg[], site: Site, walk: Walk): Verdict {
  let verdict: Verdict = { tier: 1, reason: 'searches for files', part: site.part };
  let { starts, k } = findStarts(args);
  // With a filter (-name '*.pyc') find acts on some files below the start, not on all of it.
  const filtered = args.slice(k).some((a) => FIND_FILTERS.test(a.text));
  if (filtered) starts = starts.map((s) => `${s.replace(/\/+$/, '')}/matching-file`);
  const deletes = args.slice(k).some((a) => a.text === '-delete');
  if (args.slice(k).some((a) => FIND_EXEC.has(a.text) || /^-(delete|fprint\w*|fls)$/.test(a.text)))
    unproven(walk, site.part, 'find runs a command or changes files for each match');
  if (deletes && !filtered) {
    for (const start of starts) {
      const cls = classifyTarget(start, walk.cwd);
      if (cls === 'root' || cls === 'home' || cls === 'systemdir') {
        verdict = { tier: 4, reason: `deletes everything under ${start}`, part: site.part };
      }
    }
  }
  for (; k < args.length; k++) {
    if (!FIND_EXEC.has(args[k]!.text)) continue;
    const command: Arg[] = [];
    for (k++; k < args.length && args[k]!.text !== ';' && args[k]!.text !== '+'; k++) command.push(args[k]!);
    const innerSite = { ...site, piped: false, stdin: undefined, topLevel: false };
    for (const start of starts) {
      const argv = command.map((a) =>
        a.text.includes('{}') ? { ...a, text: a.text.replaceAll('{}', start) } : a,
      );
      const inner = walk.ops.evaluate(argv, innerSite, walk);
      const cls = filtered ? undefined : classifyTarget(start, walk.cwd);
      // unfiltered, find hands the command every file below the start: a whole-tree change
      if (inner.tier === 3 && (cls === 'root' || cls === 'home' || cls === 'systemdir')) {
        verdict = higher(verdict, {
          ...inner,
          tier: 4,
          reason: `${inner.reason}, for every file under ${start}`,
          rule: 'find -exec over a whole tree',
        });
      } else verdict = higher(verdict, inner);
    }
  }
  return verdict;
}
