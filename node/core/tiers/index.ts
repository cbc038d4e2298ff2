import { classifyLine, evaluate, nested } from './classify.ts';
import { suggest } from './correct.ts';
import { isTier, shippedRules, type Tier } from './rules.ts';
import type { NameUse, Unproven, Verdict, Walk } from './walk.ts';

/**
 * Safety tiers. classify(line) parses the whole line like bash would and returns the highest tier
 * of anything in it: 1 run, 2 run (auto-correcting a mistyped command name), 2.5 correct and ask,
 * 3 explain and ask, 4 refuse. Pure and synchronous; it never runs anything and never throws.
 *
 * Decisions worth knowing:
 * - `sudo`/`doas`/`su -c`/`pkexec` raise what they run to at least 3, except read-only commands
 *   (tier 1), which become 2 (`sudo ls` 2, `sudo apt-get install x` 3, `sudo rm -rf /` 4).
 *   `tier.sudo` replaces that floor.
 * - `tier.<command>` overrides the rule tier of that command, up or down, but never lowers a
 *   tier-4 verdict. On wrappers (`sudo`, `env`, `bash -c`, ...) it is a floor under what they run.
 * - A command name computed at run time (`$(...)`, `$X`, globs) is 3, or 4 when its arguments
 *   would be catastrophic for rm/chmod/chown/mkfs/dd/shred/wipefs/mv.
 * - Unterminated quotes: the line is also judged with its quotes removed; the higher tier wins.
 */

export type { Tier } from './rules.ts';

export interface Classification {
  tier: Tier;
  reason: string;
  /** The simple command text that decided the tier. */
  part: string;
  /** The corrected full line, when a command name was mistyped (tier 2/2.5, or higher if the fix is risky). */
  correction?: string;
  /** Which rule decided (`rules.json git rule 6`, `inline code: delete API`, `alias gs > ...`). */
  rule: string;
  /** Strict mode only: every part the remote policy cannot prove safe (empty when all is proven). */
  unproven?: Unproven[];
}

export type { Unproven } from './walk.ts';

export interface ClassifyOptions {
  /** From config `tier.<command>` keys (see tierOverridesFromConfig). */
  overrides?: Record<string, Tier>;
  /** Tier of commands no rule knows (config `tier.default`); 2 unless set. */
  defaultTier?: Tier;
  /** Whether a command name exists (PATH, builtins, functions). Without it no correction is tried. */
  commandExists?: (name: string) => boolean;
  /** Names a mistyped command may have meant: PATH executables, builtins, history command names. */
  candidates?: () => Iterable<string>;
  /** The live session's aliases (name -> text): `gs` runs as `git status` and is judged as that. */
  aliases?: ReadonlyMap<string, string>;
  /** The live session's function names. */
  functions?: Iterable<string>;
  /** Remote mode: also list what cannot be proven safe (`unproven`); the remote policy refuses those. */
  strict?: boolean;
}

const KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'case',
  'esac',
  'while',
  'until',
  'for',
]);

function walkFor(options: ClassifyOptions): Walk {
  const rules = shippedRules();
  return {
    rules,
    overrides: options.overrides ?? {},
    defaultTier: options.defaultTier ?? rules.defaultTier,
    vars: new Map(),
    arrays: new Map(),
    aliases: (options.aliases ?? NO_ALIASES) as Map<string, string>,
    functions: new Set(options.functions ?? []),
    bodies: new Map(),
    calling: new Set(),
    cwd: undefined,
    depth: 0,
    names: [],
    downloaded: new Set(),
    written: new Map(),
    strict: options.strict === true,
    unproven: [],
    ops: OPS,
  };
}

const NO_ALIASES: ReadonlyMap<string, string> = new Map();
const OPS = { evaluate, nested };

function run(line: string, options: ClassifyOptions): { verdict: Verdict; walk: Walk } {
  const walk = walkFor(options);
  try {
    return { verdict: classifyLine(line, walk), walk };
  } catch (error) {
    // A parser bug must not let a line through unchecked.
    const reason = `could not be checked (${(error as Error).message})`;
    walk.unproven.push({ part: line.trim(), reason });
    return { verdict: { tier: 3, reason, part: line.trim(), rule: 'classifier error' }, walk };
  }
}

export function classify(line: string, options: ClassifyOptions = {}): Classification {
  const { verdict, walk } = run(line, options);
  const result: Classification = {
    tier: verdict.tier,
    reason: verdict.reason,
    part: verdict.part || line.trim(),
    rule: verdict.rule ?? 'rules.json',
  };
  if (options.strict) result.unproven = walk.unproven;
  if (!options.commandExists || verdict.tier === 4 || options.strict) return result;
  return correct(line, result, walk, options) ?? result;
}

interface Replacement {
  part: string;
  start: number;
  end: number;
  from: string;
  to: string;
}

function correct(
  line: string,
  result: Classification,
  walk: Walk,
  options: ClassifyOptions,
): Classification | undefined {
  const names: readonly NameUse[] = walk.names;
  const functions: ReadonlySet<string> = walk.functions;
  const exists = options.commandExists!;
  const replacements: Replacement[] = [];
  let ambiguous = false;
  let pool: Set<string> | undefined;
  const done = new Set<number>();
  for (const use of names) {
    const { name, word } = use;
    if (
      done.has(word.start) ||
      !name ||
      KEYWORDS.has(name) ||
      functions.has(name) ||
      walk.aliases.has(name) ||
      exists(name)
    )
      continue;
    done.add(word.start);
    pool ??= new Set(options.candidates?.() ?? []);
    // A name among the candidates (an alias typed before, say) is known even if not on PATH.
    if (pool.has(name)) continue;
    const hit = suggest(name, pool);
    if (!hit) continue;
    if (hit.distance > 1 || !hit.unique) ambiguous = true;
    replacements.push({ start: word.start, end: word.end, from: name, to: hit.name, part: use.part });
  }
  if (replacements.length === 0) return undefined;
  let corrected = line;
  for (const r of [...replacements].sort((a, b) => b.start - a.start)) {
    corrected = corrected.slice(0, r.start) + r.to + corrected.slice(r.end);
  }
  const fixed = run(corrected, { ...options, commandExists: undefined }).verdict;
  const what = replacements.map((r) => `${r.from} -> ${r.to}`).join(', ');
  const tier: Tier = ambiguous ? 2.5 : 2;
  if (fixed.tier > tier || result.tier > tier) {
    const worst = fixed.tier >= result.tier ? fixed : result;
    return {
      tier: worst.tier,
      reason: `${worst.reason} (corrected ${what})`,
      part: worst.part,
      correction: corrected,
      rule: worst.rule ?? 'did-you-mean',
    };
  }
  const reason = ambiguous
    ? `command not found; did you mean ${what}?`
    : `command not found; corrected ${what}`;
  return {
    tier,
    reason,
    part: replacements[0]!.part,
    correction: corrected,
    rule: 'did-you-mean correction',
  };
}

/** `tier.<command>` config entries as overrides; `tier.default` and invalid values are skipped. */
export function tierOverridesFromConfig(
  entries: readonly { key: string; value: string }[],
): Record<string, Tier> {
  const overrides: Record<string, Tier> = Object.create(null) as Record<string, Tier>;
  for (const { key, value } of entries) {
    if (!key.startsWith('tier.') || key === 'tier.default') continue;
    const tier = Number(value);
    const name = key.slice(5);
    if (name && isTier(tier)) overrides[name] = tier;
  }
  return overrides;
}

/**
 * `isaac tier "LINE"`: `tier 4: rm -rf / — deletes the root filesystem`; JSON is one line.
 * With `explain`, also which part and which rule decided.
 */
export function formatTierReport(c: Classification, json: boolean, explain = false): string {
  if (json) {
    const out: Record<string, unknown> = { tier: c.tier, reason: c.reason, part: c.part };
    if (explain) out['rule'] = c.rule;
    if (c.correction !== undefined) out['correction'] = c.correction;
    return JSON.stringify(out);
  }
  let text = `tier ${c.tier}: ${c.part} — ${c.reason}`;
  if (explain) text += `\ndecided by: ${c.part}\nrule: ${c.rule}`;
  return c.correction === undefined ? text : `${text}\ncorrection: ${c.correction}`;
}
