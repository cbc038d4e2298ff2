import { readFileSync } from 'node:fs';
import { ConfigError } from '../../../schemas/errors.ts';
import { classifyTarget, TARGET_CLASSES, type TargetClass } from './targets.ts';

/**
 * The shipped tier rules (rules.json): per command name a base tier and reason, and an ordered
 * list of argument rules — the first rule that matches decides, otherwise the base applies.
 *
 * rules.json format:
 *   defaultTier            tier of commands no entry knows (config tier.default overrides it)
 *   commands.NAME          { tier, reason, valueOpts?, rules? } or { same: OTHER } to share an entry
 *     valueOpts            options whose next word is their value (git -C DIR), so it is not
 *                          mistaken for a subcommand or target
 *     rules[]              { tier, reason, ...conditions }; every condition given must hold:
 *       sub / sub2         first / second positional word is one of these (git push, docker system prune)
 *       flag / allFlags    any / all of these options; a one-letter "-r" also matches inside "-rf"
 *       target             a positional (after sub/sub2) is one of: root (/, /*), home (~, $HOME,
 *                          /home/NAME), systemdir (/usr, /etc, ...), device (/dev/sda, /dev/nvme0n1,
 *                          ...), systemfile (/etc/passwd, /boot/...), etc (other /etc, bin, lib, /sys files)
 *       targetKey          look for the target in KEY=path words instead (dd's of=)
 *       arg / word         a regular expression matching a positional / any word
 *       piped / noArgs     stdin comes from a pipe / there is no positional word
 *   subcommands            its first words are subcommands (implied by any `sub` rule): a
 *                          destroying verb there asks when no rule matched (npm uninstall)
 *   patterns[]             { name: regex, same: NAME } for families such as mkfs.*
 * Wrappers (sudo, env, xargs, ...), shells' -c strings, eval, find -exec and redirections are
 * handled in code (classify.ts, wrappers.ts) because they need parsing, not patterns.
 */

export type Tier = 1 | 2 | 2.5 | 3 | 4;
const TIERS: readonly number[] = [1, 2, 2.5, 3, 4];

export function isTier(value: unknown): value is Tier {
  return typeof value === 'number' && TIERS.includes(value);
}

interface RuleJson {
  tier: Tier;
  reason: string;
  sub?: string[];
  sub2?: string[];
  flag?: string[];
  allFlags?: string[];
  target?: TargetClass[];
  /** Look for the target in `KEY=path` arguments (dd's of=) instead of positional ones. */
  targetKey?: string;
  arg?: string[];
  word?: string[];
  piped?: boolean;
  noArgs?: boolean;
}

interface CommandJson {
  tier?: Tier;
  reason?: string;
  same?: string;
  valueOpts?: string[];
  rules?: RuleJson[];
  subcommands?: boolean;
}

interface RulesJson {
  version: 1;
  defaultTier: Tier;
  commands: Record<string, CommandJson>;
  patterns?: { name: string; same: string }[];
}

interface Rule {
  tier: Tier;
  reason: string;
  sub?: Set<string>;
  sub2?: Set<string>;
  flag?: string[];
  allFlags?: string[];
  target?: Set<TargetClass>;
  targetKey?: string;
  arg?: RegExp[];
  word?: RegExp[];
  piped?: boolean;
  noArgs?: boolean;
}

export interface CommandRules {
  name: string;
  tier: Tier;
  reason: string;
  valueOpts: Set<string>;
  rules: Rule[];
  /** Its first words are subcommands (`git push`, `kubectl delete`): destroying verbs count. */
  subcommands: boolean;
}

export interface RuleInput {
  args: readonly string[];
  piped: boolean;
  cwd: string | undefined;
}

export interface RuleVerdict {
  tier: Tier;
  reason: string;
  /** Which argument rule matched (1-based), or 0 when the command's base verdict applies. */
  matched: number;
}

export interface RuleSet {
  defaultTier: Tier;
  lookup(name: string): CommandRules | undefined;
}

function fail(message: string): never {
  throw new ConfigError(`tier rules: ${message}`, { hint: 'fix node/core/tiers/rules.json' });
}

function compileRule(raw: RuleJson, where: string): Rule {
  if (!isTier(raw.tier) || typeof raw.reason !== 'string') fail(`${where}: a rule needs a tier and a reason`);
  const rule: Rule = { tier: raw.tier, reason: raw.reason };
  if (raw.sub) rule.sub = new Set(raw.sub);
  if (raw.sub2) rule.sub2 = new Set(raw.sub2);
  if (raw.flag) rule.flag = raw.flag;
  if (raw.allFlags) rule.allFlags = raw.allFlags;
  if (raw.target) {
    for (const t of raw.target) if (!TARGET_CLASSES.includes(t)) fail(`${where}: unknown target class ${t}`);
    rule.target = new Set(raw.target);
  }
  if (raw.targetKey) rule.targetKey = `${raw.targetKey}=`;
  try {
    if (raw.arg) rule.arg = raw.arg.map((p) => new RegExp(p));
    if (raw.word) rule.word = raw.word.map((p) => new RegExp(p));
  } catch (error) {
    fail(`${where}: bad pattern (${(error as Error).message})`);
  }
  if (raw.piped !== undefined) rule.piped = raw.piped;
  if (raw.noArgs !== undefined) rule.noArgs = raw.noArgs;
  return rule;
}

/**
 * The rule set of `json`. Every entry is checked and compiled at once, unless `lazy`: then each
 * command's entry is compiled on its first lookup (the shipped file has hundreds, and `isaac -c`
 * needs one or two; test/core/tiers/options.test.ts compiles the shipped file eagerly).
 */
export function compileRules(json: RulesJson, options: { lazy?: boolean } = {}): RuleSet {
  if (json.version !== 1 || !isTier(json.defaultTier)) fail('expected version 1 and a defaultTier');
  const table = new Map<string, CommandRules>();
  const resolve = (name: string, seen: Set<string>): CommandRules => {
    const existing = table.get(name);
    if (existing) return existing;
    const raw = json.commands[name];
    if (!raw) fail(`unknown command ${name} in "same"`);
    if (raw.same !== undefined) {
      if (seen.has(name)) fail(`"same" loop at ${name}`);
      seen.add(name);
      return resolve(raw.same, seen);
    }
    if (!isTier(raw.tier) || typeof raw.reason !== 'string') fail(`${name}: needs a tier and a reason`);
    const compiled: CommandRules = {
      name,
      tier: raw.tier,
      reason: raw.reason,
      valueOpts: new Set(raw.valueOpts ?? []),
      rules: (raw.rules ?? []).map((r, k) => compileRule(r, `${name} rule ${k + 1}`)),
      subcommands: raw.subcommands ?? (raw.rules ?? []).some((r) => r.sub !== undefined),
    };
    table.set(name, compiled);
    return compiled;
  };
  if (!options.lazy) for (const name of Object.keys(json.commands)) table.set(name, resolve(name, new Set()));
  const patterns = (json.patterns ?? []).map((p) => ({ re: new RegExp(p.name), same: p.same }));
  if (!options.lazy) for (const p of patterns) resolve(p.same, new Set());
  return {
    defaultTier: json.defaultTier,
    lookup(name) {
      const hit = table.get(name);
      if (hit) return hit;
      if (Object.hasOwn(json.commands, name)) {
        const rules = resolve(name, new Set());
        table.set(name, rules);
        return rules;
      }
      for (const p of patterns) if (p.re.test(name)) return resolve(p.same, new Set());
      return undefined;
    },
  };
}

let shipped: RuleSet | undefined;

export function shippedRules(): RuleSet {
  if (!shipped) {
    const text = readFileSync(new URL('./rules.json', import.meta.url), 'utf8');
    shipped = compileRules(JSON.parse(text) as RulesJson, { lazy: true });
  }
  return shipped;
}

interface SplitArgs {
  flags: string[];
  positional: string[];
}

function splitArgs(args: readonly string[], valueOpts: Set<string>): SplitArgs {
  const flags: string[] = [];
  const positional: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (a === '--') {
      for (k++; k < args.length; k++) positional.push(args[k]!);
      break;
    }
    if (a.length > 1 && a.startsWith('-')) {
      flags.push(a);
      if (valueOpts.has(a)) k++;
    } else positional.push(a);
  }
  return { flags, positional };
}

function hasFlag(flags: readonly string[], wanted: string): boolean {
  const short = wanted.length === 2 && wanted[0] === '-';
  for (const f of flags) {
    if (f === wanted) return true;
    if (!short && f.startsWith(`${wanted}=`)) return true;
    if (short && f[1] !== '-' && f.includes(wanted[1]!)) return true;
  }
  return false;
}

function matches(rule: Rule, input: RuleInput, split: SplitArgs): boolean {
  let positional = split.positional;
  if (rule.sub) {
    if (!positional[0] || !rule.sub.has(positional[0])) return false;
    positional = positional.slice(1);
  }
  if (rule.sub2) {
    if (!positional[0] || !rule.sub2.has(positional[0])) return false;
    positional = positional.slice(1);
  }
  if (rule.noArgs && positional.some((a) => a !== '-')) return false;
  if (rule.piped !== undefined && rule.piped !== input.piped) return false;
  if (rule.flag && !rule.flag.some((f) => hasFlag(split.flags, f))) return false;
  if (rule.allFlags && !rule.allFlags.every((f) => hasFlag(split.flags, f))) return false;
  if (rule.target) {
    const targets = rule.target;
    const key = rule.targetKey;
    const candidates = key
      ? input.args.filter((a) => a.startsWith(key)).map((a) => a.slice(key.length))
      : positional;
    const hit = candidates.some((a) => {
      const cls = classifyTarget(a, input.cwd);
      return cls !== undefined && targets.has(cls);
    });
    if (!hit) return false;
  }
  if (rule.arg && !positional.some((a) => rule.arg!.some((re) => re.test(a)))) return false;
  if (rule.word && !input.args.some((a) => rule.word!.some((re) => re.test(a)))) return false;
  return true;
}

/** The first matching rule's verdict, or the command's base verdict. */
export function evaluateRules(cmd: CommandRules, input: RuleInput): RuleVerdict {
  if (cmd.rules.length === 0) return { tier: cmd.tier, reason: cmd.reason, matched: 0 };
  const split = splitArgs(input.args, cmd.valueOpts);
  for (let k = 0; k < cmd.rules.length; k++) {
    const rule = cmd.rules[k]!;
    if (matches(rule, input, split)) return { tier: rule.tier, reason: rule.reason, matched: k + 1 };
  }
  return { tier: cmd.tier, reason: cmd.reason, matched: 0 };
}
