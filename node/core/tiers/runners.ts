import {
  basename,
  evaluate,
  higher,
  isDownloaded,
  nested,
  overrideFloor,
  overrideOf,
  quoteForLine,
  ruleOf,
  type Site,
  type Verdict,
  type Walk,
} from './classify.ts';
import { type Arg, expandWords } from './expand.ts';
import type { Tier } from './rules.ts';
import { classifyTarget } from './targets.ts';
import { unwrap, WRAPPERS } from './wrappers.ts';

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
      : nested(text.text, walk);
  } else if (name === 'env' && (u.values.get('S') ?? u.values.get('--split-string'))) {
    const split = (u.values.get('S') ?? u.values.get('--split-string'))!;
    inner = nested([split.text, ...u.inner.map(quoteForLine)].join(' '), walk);
  } else if (name === 'watch' || name === 'sg') {
    inner =
      u.inner.length === 0
        ? ruleOf(1, 'shows usage', site)
        : nested(u.inner.map((a) => a.text).join(' '), walk);
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
    if (name === 'xargs') inner = evaluateXargs(u.inner, site, walk);
    else inner = evaluate(u.inner, site, walk);
  }
  if (!spec.elevates || inner.tier === 4) return overrideFloor(name, inner, walk);
  const floor = overrideOf(walk, name) ?? (inner.tier <= 1 ? 2 : 3);
  if (inner.tier >= floor) return inner;
  return { tier: floor, reason: `runs as root: ${inner.reason}`, part: inner.part };
}

/** xargs runs its command with arguments read from stdin: use them when the line fixes them. */
function evaluateXargs(inner: Arg[], site: Site, walk: Walk): Verdict {
  const command = inner.length > 0 ? inner : [{ text: 'echo', dynamic: false }];
  const innerSite = { ...site, piped: false, stdin: undefined, prev: undefined };
  const verdict = evaluate(command, innerSite, walk);
  let items: string[] = [];
  if (site.stdin !== undefined) items = site.stdin.split(/\s+/).filter((t) => t !== '');
  else if (site.prev) {
    const prevArgs = expandWords(site.prev.words, walk);
    if (basename(prevArgs[0]?.text ?? '') === 'find') items = findStarts(prevArgs).starts;
  }
  if (items.length === 0) return verdict;
  const withItems = [...command, ...items.slice(0, 16).map((text) => ({ text, dynamic: false }))];
  return higher(verdict, evaluate(withItems, { ...innerSite, topLevel: false }, walk));
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
    return overrideFloor(name, nested(operand.text, walk, args.slice(k + 1)), walk);
  }
  if (operand && !readsStdin) {
    if (operand.dynamic) return ruleOf(3, 'runs a script produced by another command', site);
    if (isDownloaded(operand.text, walk)) {
      return ruleOf(3, `runs ${operand.text}, downloaded on this line without being read`, site);
    }
    return shellRule(name, 2, `runs the script ${operand.text}`, site, walk);
  }
  if (site.stdin !== undefined) {
    const inner = nested(site.stdin, walk);
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
      verdict = higher(verdict, evaluate(argv, innerSite, walk));
    }
  }
  return verdict;
}

const RUNS_SHELL =
  /system|popen|subprocess|exec|spawn|shell_exec|passthru|`|child_process|os\.|Process|IO\.popen/;

export function inlineCode(letters: string, args: Arg[], site: Site, walk: Walk): Verdict {
  if (letters === '')
    return scanCode(
      args.slice(1).find((a) => !a.text.startsWith('-')),
      site,
      walk,
    );
  const code = args.find(
    (a, k) =>
      k > 0 &&
      k < args.length - 1 &&
      /^-[A-Za-z]+$/.test(a.text) &&
      [...letters].some((l) => a.text.endsWith(l)),
  );
  return scanCode(code ? args[args.indexOf(code) + 1] : undefined, site, walk);
}

function scanCode(body: Arg | undefined, site: Site, walk: Walk): Verdict {
  if (body?.dynamic) return { tier: 3, reason: 'runs inline code computed at run time', part: site.part };
  if (!body || !RUNS_SHELL.test(body.text)) return { tier: 1, reason: 'runs inline code', part: site.part };
  let verdict: Verdict = { tier: 3, reason: 'the inline program runs shell commands', part: site.part };
  const literals = body.text.match(/'[^']*'|"[^"]*"|`[^`]*`/g) ?? [];
  const texts = literals.map((l) => l.slice(1, -1));
  // subprocess.run(['rm', '-rf', '/']) spells one command as a list of literals.
  for (const text of [...texts, texts.join(' ')]) {
    const inner = nested(text, walk);
    if (inner.tier === 4)
      verdict = higher(verdict, { ...inner, reason: `the inline program ${inner.reason}` });
  }
  return verdict;
}
