import { INTERPRETERS, interpreterVerdict } from './code.ts';
import { historyOff, SPECIAL } from './commands.ts';
import { ESCAPES } from './escapes.ts';
import { type Arg, expandWords, pipelineOutput, staticOutput } from './expand.ts';
import { parseScript } from './parser.ts';
import { redirectVerdict, rememberWritten } from './redirects.ts';
import { ruleVerdict } from './rule-verdict.ts';
import { evaluateShell, evaluateWrapper, findExec } from './runners.ts';
import { strictAssignments, strictProgram } from './strict.ts';
import { commandText, type Script, type SimpleCommand, type Word } from './syntax.ts';
import {
  basename,
  higher,
  isDownloaded,
  quoteForLine,
  ruleOf,
  type Site,
  type Verdict,
  via,
  type Walk,
  writtenText,
} from './walk.ts';
import { SHELLS, WRAPPERS } from './wrappers.ts';

/**
 * The classification walk: every simple command of the line, unwrapped and expanded, judged by
 * its effects; the line's verdict is the highest. Nested strings (`bash -c`, `eval`, `ssh host
 * CMD`, tool escapes, inline code's shell strings, `| sh` of a known text) are lines of their own.
 */

const MAX_NESTING = 16;
/** Commands whose tier-4 argument rules are tried when the command name is computed at run time. */
const CATASTROPHIC = ['rm', 'chmod', 'chown', 'mkfs', 'dd', 'shred', 'wipefs', 'mv'];
const DECLARES = /^(export|declare|typeset|local|readonly)$/;

export function classifyLine(line: string, walk: Walk, topLevel = true): Verdict {
  if (walk.depth > MAX_NESTING) {
    return {
      tier: 3,
      reason: 'commands nested too deeply to check',
      part: line.trim(),
      rule: 'nesting limit',
    };
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

/** Variables, arrays, positional parameters and aliases the line sets before it uses them. */
function recordState(script: Script, walk: Walk): void {
  for (const cmd of script.commands) {
    for (const a of cmd.assigns) recordAssignment(a, walk);
    const first = cmd.words[0]?.text;
    if (first && DECLARES.test(first)) for (const w of cmd.words.slice(1)) recordAssignment(w, walk);
    if (first === 'set' && cmd.words.length > 1) {
      const rest = cmd.words.slice(1);
      const from = rest[0]!.text === '--' ? 1 : /^[-+]/.test(rest[0]!.text) ? -1 : 0;
      if (from >= 0) {
        const args = expandWords(rest.slice(from), walk);
        if (args.every((a) => !a.dynamic)) setPositional(args, walk);
      }
    }
    if (first === 'alias') {
      walk.aliases = new Map(walk.aliases);
      for (const w of cmd.words.slice(1)) {
        const eq = w.text.indexOf('=');
        if (eq > 0 && !w.dynamic) walk.aliases.set(w.text.slice(0, eq), w.text.slice(eq + 1));
      }
    }
  }
  for (const f of script.functions) {
    walk.functions.add(f.name);
    const body = /\{([\s\S]*)\}\s*$|\(([\s\S]*)\)\s*$/.exec(f.text.replace(/^[^{(]*\(\s*\)/, ''));
    if (body) walk.bodies.set(f.name, body[1] ?? body[2] ?? '');
  }
}

function setPositional(args: readonly Arg[], walk: Walk): void {
  walk.arrays.set(
    '@',
    args.map((a) => a.text),
  );
  for (const [k, a] of args.entries()) walk.vars.set(String(k + 1), a.text);
  walk.vars.set('@', args.map((a) => a.text).join(' '));
  walk.vars.set('*', args.map((a) => a.text).join(' '));
}

function recordAssignment(word: Word, walk: Walk): void {
  const text = word.text;
  const eq = text.indexOf('=');
  if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*\+?$/.test(text.slice(0, eq))) return;
  const name = text.slice(0, eq).replace(/\+$/, '');
  if (word.array) {
    const elements = expandWords(word.array, walk);
    if (elements.every((a) => !a.dynamic)) {
      walk.arrays.set(
        name,
        elements.map((a) => a.text),
      );
      walk.vars.set(name, elements[0]?.text ?? '');
    }
    return;
  }
  if (!text.includes('$(') && !text.includes('`')) walk.vars.set(name, text.slice(eq + 1));
}

export function classifyScript(script: Script, walk: Walk): Verdict {
  recordState(script, walk);
  let verdict: Verdict = { tier: 1, reason: 'runs nothing', part: '', rule: 'empty line' };
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
        rule: 'function that forks itself',
      });
    }
  }
  return verdict;
}

const RUN_LATER =
  /^(PROMPT_COMMAND|PS[0-4]|BASH_ENV|ENV|GIT_PAGER|PAGER|MANPAGER|SYSTEMD_PAGER|EDITOR|VISUAL|GIT_EDITOR|GIT_SSH_COMMAND|GIT_SSH|GIT_EXTERNAL_DIFF|LESSOPEN|SUDO_ASKPASS|SSH_ASKPASS)\+?=/;
const RUNS_VALUE = /^(PROMPT_COMMAND|PS[0-4])$/;

/** Variables the shell itself runs later: PROMPT_COMMAND, and $(...) inside prompts. */
function hookVerdict(words: readonly Word[], part: string, walk: Walk): Verdict | undefined {
  let verdict: Verdict | undefined;
  for (const w of words) {
    const m = RUN_LATER.exec(w.text);
    if (!m) continue;
    const value = w.text.slice(m[0].length);
    const name = m[1]!;
    const line = name.startsWith('PS')
      ? `: ${value}`
      : /^(BASH_)?ENV$/.test(name)
        ? `. ${value}`
        : value.replace(/^\|/, '');
    if (!RUNS_VALUE.test(name) && /^(BASH_)?ENV$/.test(name) === false && value === '') continue;
    const v = walk.ops.nested(line, walk);
    if (v.tier >= 3)
      verdict = {
        tier: v.tier,
        reason: `sets ${m[1]}, which later ${v.reason}`,
        part,
        rule: 'shell hook variable',
      };
  }
  return verdict;
}

function classifySimple(cmd: SimpleCommand, walk: Walk): Verdict {
  const part = commandText(cmd);
  const args = expandWords(cmd.words, walk);
  const settings = /^(export|declare|typeset|local|readonly|env|sudo)$/.test(cmd.words[0]?.text ?? '')
    ? [...cmd.assigns, ...cmd.words]
    : cmd.assigns;
  strictAssignments(cmd.assigns, part, walk);
  const hook = hookVerdict(settings, part, walk);
  if (hook?.tier === 4) return hook;
  let verdict: Verdict;
  if (args.length === 0) {
    verdict = historyOff('', cmd.assigns, { part, piped: false, stdin: undefined, topLevel: false }) ?? {
      tier: 1,
      reason: cmd.assigns.length > 0 ? 'sets shell variables' : 'redirects output',
      part,
      rule: 'no command',
    };
  } else {
    const stdin = stdinText(cmd, walk);
    const prev = cmd.piped ? cmd.pipeline[cmd.stage - 1] : undefined;
    let piped = cmd.piped && !cmd.redirects.some((r) => r.op.startsWith('<'));
    let from = piped ? prev?.words[0]?.text : undefined;
    // `sh < <(curl ...)` feeds another program's output just like a pipe.
    const fromProcess = cmd.redirects.find((r) => r.op === '<' && r.target?.dynamic)?.target;
    let fed = stdin;
    if (fromProcess) {
      piped = true;
      const inner = fromProcess.parts.find((p) => p.kind === 'cmd');
      from = inner?.kind === 'cmd' ? inner.inner[0]?.words[0]?.text : undefined;
      if (inner?.kind === 'cmd' && fed === undefined) fed = staticOutput(inner.inner, walk);
    }
    verdict = evaluate(args, { part, piped, stdin: fed, topLevel: cmd.topLevel, from, prev }, walk);
  }
  for (const r of cmd.redirects) verdict = higher(verdict, redirectVerdict(r.op, r.target, part, walk, args));
  if (!cmd.piped) rememberWritten(cmd, walk);
  return hook ? higher(verdict, hook) : verdict;
}

function stdinText(cmd: SimpleCommand, walk: Walk): string | undefined {
  const here = cmd.redirects.find((r) => r.body !== undefined && r.op.startsWith('<<'));
  if (here) return here.body;
  if (!cmd.piped) return undefined;
  const index = cmd.pipeline[cmd.stage] === cmd ? cmd.stage : -1;
  if (index <= 0) return undefined;
  return pipelineOutput(cmd.pipeline, walk, index);
}

export function nested(line: string, walk: Walk, positional: readonly Arg[] = []): Verdict {
  let vars = walk.vars;
  let arrays = walk.arrays;
  if (positional.length > 0) {
    vars = new Map(walk.vars);
    arrays = new Map(walk.arrays);
    positional.forEach((a, k) => {
      if (!a.dynamic) vars.set(String(k), a.text);
    });
    if (positional.length > 1 && positional.every((a) => !a.dynamic)) {
      const rest = positional.slice(1).map((a) => a.text);
      vars.set('@', rest.join(' '));
      vars.set('*', rest.join(' '));
      arrays.set('@', rest);
    }
  }
  return classifyLine(
    line,
    { ...walk, depth: walk.depth + 1, names: [], vars: new Map(vars), arrays: new Map(arrays) },
    false,
  );
}

/** `alias rm='rm -rf'` on the line or in the session: the alias's text is what runs. */
function aliasExpansion(args: Arg[], site: Site, walk: Walk): Verdict | undefined {
  const first = args[0]!;
  if (!first.word || first.word.quoted || first.dynamic) return undefined;
  const body = walk.aliases.get(first.text);
  if (body === undefined) return undefined;
  const aliases = new Map(walk.aliases);
  aliases.delete(first.text);
  const line = [body, ...args.slice(1).map(quoteForLine)].join(' ');
  const inner = nested(line, { ...walk, aliases });
  return via(
    { ...inner, part: inner.part || site.part },
    `${first.text} is an alias: `,
    `alias ${first.text}`,
  );
}

export function evaluate(args: Arg[], site: Site, walk: Walk): Verdict {
  const first = args[0];
  if (!first) return { tier: 1, reason: 'runs nothing', part: site.part, rule: 'no command' };
  if (first.dynamic || (first.glob && /[*?]|\[.*\]/.test(first.text))) return dynamicName(args, site, walk);
  if (/^[!^]./.test(first.text) && first.word && !first.word.quoted) {
    return ruleOf(
      3,
      'repeats a command from the shell history, which could be anything',
      site,
      'history expansion',
    );
  }
  if (isDownloaded(first.text, walk)) {
    return ruleOf(
      3,
      `runs ${first.text}, downloaded on this line without being read`,
      site,
      'downloaded program',
    );
  }
  const script = first.text.includes('/') ? writtenText(first.text, walk) : undefined;
  if (script !== undefined) {
    strictProgram(basename(first.text), args, site.part, walk, false);
    return via(
      nested(script, walk, args),
      `${first.text}, written on this line, `,
      'script written on the line',
    );
  }
  const alias = aliasExpansion(args, site, walk);
  if (alias) return alias;
  const name = basename(first.text);
  const body = walk.bodies.get(first.text);
  if (body !== undefined && args.length > 1 && !walk.calling.has(first.text)) {
    // a function from this line, called with arguments: its body with $1... set
    const inner = nested(body, { ...walk, calling: new Set([...walk.calling, first.text]) }, args);
    strictProgram(name, args, site.part, walk, false);
    return via({ ...inner, part: inner.part || site.part }, `the function ${name}: `, `function ${name}`);
  }
  if (first.word && site.topLevel && !first.text.includes('/'))
    walk.names.push({ name: first.text, word: first.word, part: site.part });
  if (WRAPPERS.has(name)) {
    strictProgram(name, args, site.part, walk, false);
    return evaluateWrapper(name, args, site, walk);
  }
  if (SHELLS.has(name)) return evaluateShell(name, args, site, walk);
  let verdict: Verdict | undefined = SPECIAL.get(name)?.(name, args, site, walk);
  if (verdict === undefined) {
    verdict = ruleVerdict(name, args, site, walk);
    if (INTERPRETERS.has(name)) verdict = higher(verdict, interpreterVerdict(name, args, site, walk));
    if (name === 'find') verdict = higher(verdict, findExec(args, site, walk));
  }
  const escaped = ESCAPES.get(name)?.(args, site, walk);
  if (escaped) verdict = higher(verdict, escaped);
  strictProgram(
    name,
    args,
    site.part,
    walk,
    verdict.tier <= 1 && verdict.rule?.startsWith('rules.json') === true,
  );
  return verdict;
}

function dynamicName(args: Arg[], site: Site, walk: Walk): Verdict {
  let verdict: Verdict = {
    tier: 3,
    reason: 'the command name is computed when it runs',
    part: site.part,
    rule: 'computed command name',
  };
  strictProgram('', args, site.part, walk, false);
  if (walk.strict)
    walk.unproven.push({ part: site.part, reason: 'the command name is computed when it runs' });
  const rest = args.slice(1);
  for (const candidate of CATASTROPHIC) {
    const v = evaluate([{ text: candidate, dynamic: false }, ...rest], { ...site, topLevel: false }, walk);
    if (v.tier === 4) {
      verdict = {
        tier: 4,
        reason: `${v.reason} if the computed command is ${candidate}`,
        part: site.part,
        rule: 'computed command name',
      };
      break;
    }
  }
  return verdict;
}
