import { type Arg, expandWords, pipelineOutput } from './expand.ts';
import { parseScript } from './parser.ts';
import { evaluateRules, type RuleSet, type Tier } from './rules.ts';
import { evaluateShell, evaluateWrapper, findExec, inlineCode } from './runners.ts';
import { commandText, type Script, type SimpleCommand, type Word } from './syntax.ts';
import { classifyTarget, normalizePath } from './targets.ts';
import { INTERPRETERS, SHELLS, SSH_VALUE_OPTIONS, unwrap, WRAPPERS } from './wrappers.ts';

/**
 * The classification walk: every simple command of the line, unwrapped and expanded, checked
 * against the rules; the line's verdict is the highest. Nested strings (`bash -c`, `eval`,
 * `ssh host CMD`, `| sh` of a known text) are classified as lines of their own.
 */

export interface Verdict {
  tier: Tier;
  reason: string;
  part: string;
}

export interface NameUse {
  name: string;
  word: Word;
  /** The simple command the name starts. */
  part: string;
}

export interface Walk {
  rules: RuleSet;
  overrides: Readonly<Record<string, Tier>>;
  defaultTier: Tier;
  vars: Map<string, string>;
  functions: Set<string>;
  cwd: string | undefined;
  depth: number;
  /** Command names as typed at the top level, for did-you-mean corrections. */
  names: NameUse[];
  /** Files written by curl/wget earlier on the line: running one runs unseen code. */
  downloaded: Set<string>;
}

const MAX_NESTING = 16;
/** Commands whose tier-4 argument rules are tried when the command name is computed at run time. */
const CATASTROPHIC = ['rm', 'chmod', 'chown', 'mkfs', 'dd', 'shred', 'wipefs', 'mv'];

export function overrideOf(walk: Walk, name: string): Tier | undefined {
  return Object.hasOwn(walk.overrides, name) ? walk.overrides[name] : undefined;
}

export function isDownloaded(path: string, walk: Walk): boolean {
  return (
    walk.downloaded.size > 0 && (walk.downloaded.has(path) || walk.downloaded.has(path.replace(/^\.\//, '')))
  );
}

export function higher(a: Verdict, b: Verdict): Verdict {
  return b.tier > a.tier ? b : a;
}

export function basename(text: string): string {
  const slash = text.lastIndexOf('/');
  return slash < 0 ? text : text.slice(slash + 1);
}

export function quoteForLine(arg: Arg): string {
  return /^[A-Za-z0-9_@%+=:,./~-]+$/.test(arg.text) ? arg.text : `'${arg.text.replace(/'/g, `'\\''`)}'`;
}

export function classifyLine(line: string, walk: Walk, topLevel = true): Verdict {
  if (walk.depth > MAX_NESTING) {
    return { tier: 3, reason: 'commands nested too deeply to check', part: line.trim() };
  }
  const script = parseScript(line, topLevel);
  let verdict = classifyScript(script, walk);
  if (script.incomplete) {
    // The shell would wait for more input; judge what the visible words would do unquoted too,
    // and the text after each quote as a line of its own.
    const variants = [line.replace(/["'`]/g, ' ')];
    for (let q = 0, found = 0; q < line.length && found < 8; q++) {
      if (line[q] === '"' || line[q] === "'" || line[q] === '`') {
        variants.push(line.slice(q + 1));
        found++;
      }
    }
    for (const visible of variants) {
      const again = classifyScript(parseScript(visible, false), {
        ...walk,
        names: [],
        depth: walk.depth + 1,
      });
      if (again.tier > verdict.tier) verdict = { ...again, reason: `${again.reason} (unterminated quote)` };
    }
  }
  return verdict;
}

export function classifyScript(script: Script, walk: Walk): Verdict {
  for (const cmd of script.commands) {
    for (const a of cmd.assigns) recordAssignment(a.text, walk);
    if (cmd.words[0] && /^(export|declare|typeset|local|readonly)$/.test(cmd.words[0].text)) {
      for (const w of cmd.words.slice(1)) recordAssignment(w.text, walk);
    }
  }
  for (const f of script.functions) walk.functions.add(f.name);
  let verdict: Verdict = { tier: 1, reason: 'runs nothing', part: '' };
  script.commands.forEach((cmd, k) => {
    const v = classifySimple(cmd, walk);
    verdict = k === 0 ? v : higher(verdict, v);
  });
  for (const f of script.functions) {
    const selfCalls = f.body.filter((c) => c.words[0]?.text === f.name);
    if (selfCalls.some((c) => c.background || c.pipeline.length > 1)) {
      verdict = higher(verdict, {
        tier: 4,
        reason: `a fork bomb: ${f.name} starts copies of itself without end`,
        part: f.text,
      });
    }
  }
  return verdict;
}

function recordAssignment(text: string, walk: Walk): void {
  const eq = text.indexOf('=');
  if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*\+?$/.test(text.slice(0, eq))) return;
  const name = text.slice(0, eq).replace(/\+$/, '');
  if (!text.includes('$(') && !text.includes('`')) walk.vars.set(name, text.slice(eq + 1));
}

const RUN_LATER = /^(PROMPT_COMMAND|PS[0-4]|BASH_ENV|ENV)\+?=/;

/** Variables the shell itself runs later: PROMPT_COMMAND, and $(...) inside prompts. */
function hookVerdict(words: readonly Word[], part: string, walk: Walk): Verdict | undefined {
  let verdict: Verdict | undefined;
  for (const w of words) {
    const m = RUN_LATER.exec(w.text);
    if (!m) continue;
    const value = w.text.slice(m[0].length);
    const line = m[1] === 'PROMPT_COMMAND' ? value : m[1]!.startsWith('PS') ? `: ${value}` : `. ${value}`;
    const v = nested(line, walk);
    if (v.tier >= 3) verdict = { tier: v.tier, reason: `sets ${m[1]}, which later ${v.reason}`, part };
  }
  return verdict;
}

function classifySimple(cmd: SimpleCommand, walk: Walk): Verdict {
  const part = commandText(cmd);
  const args = expandWords(cmd.words, walk);
  const hook = hookVerdict(
    /^(export|declare|typeset|local|readonly)$/.test(cmd.words[0]?.text ?? '')
      ? [...cmd.assigns, ...cmd.words]
      : cmd.assigns,
    part,
    walk,
  );
  if (hook?.tier === 4) return hook;
  let verdict: Verdict;
  if (args.length === 0) {
    verdict = { tier: 1, reason: cmd.assigns.length > 0 ? 'sets shell variables' : 'redirects output', part };
  } else {
    const stdin = stdinText(cmd, walk);
    const prev = cmd.piped ? cmd.pipeline[cmd.stage - 1] : undefined;
    let piped = cmd.piped && !cmd.redirects.some((r) => r.op.startsWith('<'));
    let from = piped ? prev?.words[0]?.text : undefined;
    // `sh < <(curl ...)` feeds another program's output just like a pipe.
    const fromProcess = cmd.redirects.find((r) => r.op === '<' && r.target?.dynamic)?.target;
    if (fromProcess) {
      piped = true;
      const inner = fromProcess.parts.find((p) => p.kind === 'cmd');
      from = inner?.kind === 'cmd' ? inner.inner[0]?.words[0]?.text : undefined;
    }
    verdict = evaluate(args, { part, piped, stdin, topLevel: cmd.topLevel, from, prev }, walk);
  }
  for (const r of cmd.redirects) verdict = higher(verdict, redirectVerdict(r.op, r.target, part, walk));
  return hook ? higher(verdict, hook) : verdict;
}

function redirectVerdict(op: string, target: Word | undefined, part: string, walk: Walk): Verdict {
  const none: Verdict = { tier: 1, reason: 'redirects output', part };
  if (!target || !/^(>|>>|>\||&>|&>>|<>|>&)$/.test(op)) return none;
  const [arg] = expandWords([target], walk);
  if (!arg || /^\d+$|^-$/.test(arg.text)) return none;
  const cls = classifyTarget(arg.text, walk.cwd);
  if (cls === 'device') return { tier: 4, reason: `writes raw data onto the disk device ${arg.text}`, part };
  if (cls === 'systemfile') return { tier: 4, reason: `overwrites the system file ${arg.text}`, part };
  if (cls === 'etc') return { tier: 3, reason: `overwrites the system file ${arg.text}`, part };
  return none;
}

function stdinText(cmd: SimpleCommand, walk: Walk): string | undefined {
  const here = cmd.redirects.find((r) => r.body !== undefined && r.op.startsWith('<<'));
  if (here) return here.body;
  if (!cmd.piped) return undefined;
  const index = cmd.pipeline[cmd.stage] === cmd ? cmd.stage : -1;
  if (index <= 0) return undefined;
  return pipelineOutput(cmd.pipeline, walk, index);
}

export interface Site {
  part: string;
  /** Name of the command feeding this one's stdin through a pipe. */
  from?: string | undefined;
  piped: boolean;
  stdin: string | undefined;
  topLevel: boolean;
  /** The previous pipeline stage (what xargs turns into arguments). */
  prev?: SimpleCommand | undefined;
}

export function nested(line: string, walk: Walk, positional: readonly Arg[] = []): Verdict {
  const vars = new Map(walk.vars);
  positional.forEach((a, k) => {
    if (!a.dynamic) vars.set(String(k), a.text);
  });
  if (positional.length > 1 && positional.every((a) => !a.dynamic)) {
    const rest = positional
      .slice(1)
      .map((a) => a.text)
      .join(' ');
    vars.set('@', rest);
    vars.set('*', rest);
  }
  return classifyLine(line, { ...walk, depth: walk.depth + 1, names: [], vars }, false);
}

export function evaluate(args: Arg[], site: Site, walk: Walk): Verdict {
  const first = args[0];
  if (!first) return { tier: 1, reason: 'runs nothing', part: site.part };
  if (first.dynamic || (first.glob && /[*?]|\[.*\]/.test(first.text))) return dynamicName(args, site, walk);
  if (/^[!^]./.test(first.text) && first.word && !first.word.quoted) {
    return ruleOf(3, 'repeats a command from the shell history, which could be anything', site);
  }
  if (isDownloaded(first.text, walk)) {
    return ruleOf(3, `runs ${first.text}, downloaded on this line without being read`, site);
  }
  const name = basename(first.text);
  if (first.word && site.topLevel && !first.text.includes('/'))
    walk.names.push({ name: first.text, word: first.word, part: site.part });
  const wrapper = WRAPPERS.get(name);
  if (wrapper) return evaluateWrapper(name, args, site, walk);
  if (SHELLS.has(name)) return evaluateShell(name, args, site, walk);
  switch (name) {
    case 'eval': {
      const line = args
        .slice(1)
        .map((a) => a.text)
        .join(' ');
      const inner = nested(line, walk);
      if (args.some((a) => a.dynamic) && inner.tier < 3) {
        return { tier: 3, reason: 'evaluates a command computed at run time', part: site.part };
      }
      return overrideFloor(name, inner, walk);
    }
    case 'source':
    case '.':
      if (args.slice(1).some((a) => a.dynamic)) {
        return { tier: 3, reason: 'runs a script produced by another command', part: site.part };
      }
      if (args[1] && isDownloaded(args[1].text, walk)) {
        return ruleOf(3, `runs ${args[1].text}, downloaded on this line without being read`, site);
      }
      break;
    case 'alias':
    case 'trap': {
      let verdict = ruleVerdict(name, args, site, walk);
      const bodies =
        name === 'alias'
          ? args.slice(1).map((a) => a.text.slice(a.text.indexOf('=') + 1))
          : args.slice(1, 2).map((a) => a.text);
      for (const body of bodies) if (body) verdict = higher(verdict, nested(body, walk));
      return verdict;
    }
    case 'ssh': {
      const u = unwrap({ short: SSH_VALUE_OPTIONS, positional: 1 }, args);
      let verdict = ruleVerdict(name, args, site, walk);
      // ProxyCommand and LocalCommand run here, not on the remote machine.
      for (let k = 1; k < args.length - 1; k++) {
        const m =
          args[k]!.text === '-o'
            ? /^(ProxyCommand|LocalCommand)[= ]\s*(.*)$/is.exec(args[k + 1]!.text)
            : null;
        if (m?.[2]) verdict = higher(verdict, nested(m[2], walk));
      }
      if (u.inner.length === 0) return verdict;
      const inner = nested(u.inner.map((a) => a.text).join(' '), walk);
      const host = args[args.length - u.inner.length - 1]?.text ?? 'the remote machine';
      return higher(verdict, { ...inner, reason: `on ${host}: ${inner.reason}` });
    }
    case 'curl':
    case 'wget':
      for (let k = 1; k < args.length; k++) {
        const a = args[k]!.text;
        const next = args[k + 1]?.text;
        if (
          (a === '-o' || a === '-O' || a === '--output' || a === '--output-document') &&
          next &&
          next !== '-'
        ) {
          walk.downloaded.add(next);
        } else if (/^--output(-document)?=/.test(a)) walk.downloaded.add(a.slice(a.indexOf('=') + 1));
        else if (name === 'curl' && /^-[a-zA-Z]*o$/.test(a) && next) walk.downloaded.add(next);
        else if (
          /^https?:\/\/[^?#]*\/([^/?#]+)$/.test(a) &&
          (name === 'wget' || args.some((x) => /^-[a-zA-Z]*O$|^--remote-name$/.test(x.text)))
        ) {
          walk.downloaded.add(/\/([^/?#]+)$/.exec(a)![1]!);
        }
      }
      break;
    case 'parallel': {
      const split = args.findIndex((a) => a.text === ':::');
      const command = args
        .slice(1, split < 0 ? undefined : split)
        .filter((a, k) => k > 0 || !a.text.startsWith('-'));
      const items = split < 0 ? [] : args.slice(split + 1, split + 17);
      return higher(
        ruleVerdict(name, args, site, walk),
        evaluate([...command, ...items], { ...site, topLevel: false }, walk),
      );
    }
    case 'at':
    case 'batch': {
      // at reads the job's commands from stdin.
      const own = ruleVerdict(name, args, site, walk);
      if (site.stdin !== undefined) return higher(own, nested(site.stdin, walk));
      if (site.piped)
        return higher(own, ruleOf(3, 'schedules whatever another program outputs as commands', site));
      return own;
    }
    case 'find':
      return higher(ruleVerdict(name, args, site, walk), findExec(args, site, walk));
    case 'cd':
    case 'pushd': {
      const target = args[1];
      if (!target) walk.cwd = '~';
      else walk.cwd = target.dynamic ? undefined : normalizePath(target.text, walk.cwd);
      break;
    }
  }
  const code = INTERPRETERS.get(name);
  if (code !== undefined) {
    const script = args.slice(1).find((a) => !a.text.startsWith('-'));
    if (code !== '' && script && isDownloaded(script.text, walk)) {
      return ruleOf(3, `runs ${script.text}, downloaded on this line without being read`, site);
    }
    return higher(ruleVerdict(name, args, site, walk), inlineCode(code, args, site, walk));
  }
  return ruleVerdict(name, args, site, walk);
}

export function ruleVerdict(name: string, args: Arg[], site: Site, walk: Walk): Verdict {
  const known = walk.rules.lookup(name) !== undefined;
  if (
    known &&
    args.length === 2 &&
    /^--(help|version)$/.test(args[1]!.text) &&
    overrideOf(walk, name) === undefined
  ) {
    return ruleOf(1, 'shows help', site);
  }
  const rules = walk.rules.lookup(name);
  const base = rules
    ? evaluateRules(rules, { args: args.slice(1).map((a) => a.text), piped: site.piped, cwd: walk.cwd })
    : {
        tier: walk.defaultTier,
        reason: walk.functions.has(name) ? 'runs a shell function' : 'not a known command',
      };
  const override = overrideOf(walk, name);
  if (override === undefined || base.tier === 4 || override === base.tier)
    return { ...base, part: site.part };
  return { tier: override, reason: `${base.reason} (tier.${name} is ${override})`, part: site.part };
}

/** A wrapper's own override acts as a floor under what it runs; it never lowers a tier 4. */
export function overrideFloor(name: string, inner: Verdict, walk: Walk): Verdict {
  const floor = overrideOf(walk, name);
  if (floor === undefined || floor <= inner.tier) return inner;
  return { ...inner, tier: floor, reason: `${inner.reason} (tier.${name} is ${floor})` };
}

function dynamicName(args: Arg[], site: Site, walk: Walk): Verdict {
  let verdict: Verdict = { tier: 3, reason: 'the command name is computed when it runs', part: site.part };
  const rest = args.slice(1);
  for (const candidate of CATASTROPHIC) {
    const v = evaluate([{ text: candidate, dynamic: false }, ...rest], { ...site, topLevel: false }, walk);
    if (v.tier === 4) {
      verdict = { tier: 4, reason: `${v.reason} if the computed command is ${candidate}`, part: site.part };
      break;
    }
  }
  return verdict;
}

export function ruleOf(tier: Tier, reason: string, site: Site): Verdict {
  return { tier, reason, part: site.part };
}
