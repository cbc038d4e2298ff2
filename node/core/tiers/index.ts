import { classifyLine, type NameUse, type Verdict, type Walk } from './classify.ts';
import { suggest } from './correct.ts';
import { isTier, shippedRules, type Tier } from './rules.ts';

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
}

export interface ClassifyOptions {
  /** From config `tier.<command>` keys (see tierOverridesFromConfig). */
  overrides?: Record<string, Tier>;
  /** Tier of commands no rule knows (config `tier.default`); 2 unless set. */
  defaultTier?: Tier;
  /** Whether a command name exists (PATH, builtins, functions). Without it no correction is tried. */
  commandExists?: (name: string) => boolean;
  /** Names a mistyped command may have meant: PATH executables, builtins, history command names. */
  candidates?: () => Iterable<string>;
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
    functions: new Set(),
    cwd: undefined,
    depth: 0,
    names: [],
    downloaded: new Set(),
  };
}

function run(line: string, options: ClassifyOptions): { verdict: Verdict; walk: Walk } {
  const walk = walkFor(options);
  try {
    return { verdict: classifyLine(line, walk), walk };
  } catch (error) {
    // A parser bug must not let a line through unchecked.
    const reason = `could not be checked (${(error as Error).message})`;
    return { verdict: { tier: 3, reason, part: line.trim() }, walk };
  }
}

export function classify(line: string, options: ClassifyOptions = {}): Classification {
  const { verdict, walk } = run(line, options);
  const result: Classification = {
    tier: verdict.tier,
    reason: verdict.reason,
    part: verdict.part || line.trim(),
  };
  if (!options.commandExists || verdict.tier === 4) return result;
  return correct(line, result, walk.names, walk.functions, options) ?? result;
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
  names: readonly NameUse[],
  functions: ReadonlySet<string>,
  options: ClassifyOptions,
): Classification | undefined {
  const exists = options.commandExists!;
  const replacements: Replacement[] = [];
  let ambiguous = false;
  let pool: Set<string> | undefined;
  const done = new Set<number>();
  for (const use of names) {
    const { name, word } = use;
    if (done.has(word.start) || !name || KEYWORDS.has(name) || functions.has(name) || exists(name)) continue;
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
    };
  }
  const reason = ambiguous
    ? `command not found; did you mean ${what}?`
    : `command not found; corrected ${what}`;
  return { tier, reason, part: replacements[0]!.part, correction: corrected };
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

/** `isaac tier "LINE"`: `tier 4: rm -rf / — deletes the root filesystem`; JSON is one line. */
export function formatTierReport(c: Classification, json: boolean): string {
  if (json) {
    const out: Record<string, unknown> = { tier: c.tier, reason: c.reason, part: c.part };
    if (c.correction !== undefined) out['correction'] = c.correction;
    return JSON.stringify(out);
  }
  const line = `tier ${c.tier}: ${c.part} — ${c.reason}`;
  return c.correction === undefined ? line : `${line}\ncorrection: ${c.correction}`;
}
