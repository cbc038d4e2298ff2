import type { Arg } from './expand.ts';
import type { RuleSet, Tier } from './rules.ts';
import type { SimpleCommand, Word } from './syntax.ts';

/**
 * The state of one classification walk and the small helpers every part of the classifier
 * shares. The walk carries its own `evaluate`/`nested` entry points (`ops`), so the modules that
 * read particular programs (runners, escapes, inline code) call back into the walk without
 * importing classify.ts: the import graph stays a tree.
 */

export interface Verdict {
  tier: Tier;
  reason: string;
  part: string;
  /** Which rule decided, for `isaac tier --explain` (e.g. `rules.json git`, `write onto a startup file`). */
  rule?: string;
}

export interface NameUse {
  name: string;
  word: Word;
  /** The simple command the name starts. */
  part: string;
}

/** Something the strict (remote) mode cannot prove safe; any one refuses the line remotely. */
export interface Unproven {
  part: string;
  reason: string;
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

export interface WalkOps {
  evaluate(args: Arg[], site: Site, walk: Walk): Verdict;
  nested(line: string, walk: Walk, positional?: readonly Arg[]): Verdict;
}

export interface Walk {
  rules: RuleSet;
  overrides: Readonly<Record<string, Tier>>;
  defaultTier: Tier;
  vars: Map<string, string>;
  /** Arrays and positional parameters set on the line (`a=(rm -rf /)`, `set -- ...`). */
  arrays: Map<string, string[]>;
  /** Aliases of the live session, and those defined earlier on the line. */
  aliases: Map<string, string>;
  functions: Set<string>;
  /** Bodies of functions defined on the line, and those being expanded (no recursion). */
  bodies: Map<string, string>;
  calling: ReadonlySet<string>;
  cwd: string | undefined;
  depth: number;
  /** Command names as typed at the top level, for did-you-mean corrections. */
  names: NameUse[];
  /** Files written by curl/wget earlier on the line: running one runs unseen code. */
  downloaded: Set<string>;
  /** Files written on the line with a text the line fixes (`printf 'rm -rf ~' > x.sh`). */
  written: Map<string, string>;
  /** Remote mode: record what cannot be proven safe (shared by nested walks). */
  strict: boolean;
  unproven: Unproven[];
  ops: WalkOps;
}

export function overrideOf(walk: Walk, name: string): Tier | undefined {
  return Object.hasOwn(walk.overrides, name) ? walk.overrides[name] : undefined;
}

export function isDownloaded(path: string, walk: Walk): boolean {
  return (
    walk.downloaded.size > 0 && (walk.downloaded.has(path) || walk.downloaded.has(path.replace(/^\.\//, '')))
  );
}

/** The text a file got earlier on this line, when the line fixes it. */
export function writtenText(path: string, walk: Walk): string | undefined {
  if (walk.written.size === 0) return undefined;
  return walk.written.get(path) ?? walk.written.get(path.replace(/^\.\//, ''));
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

export function ruleOf(tier: Tier, reason: string, site: Site, rule?: string): Verdict {
  return rule === undefined ? { tier, reason, part: site.part } : { tier, reason, part: site.part, rule };
}

/** A wrapper's own override acts as a floor under what it runs; it never lowers a tier 4. */
export function overrideFloor(name: string, inner: Verdict, walk: Walk): Verdict {
  const floor = overrideOf(walk, name);
  if (floor === undefined || floor <= inner.tier) return inner;
  return {
    ...inner,
    tier: floor,
    reason: `${inner.reason} (tier.${name} is ${floor})`,
    rule: `tier.${name}`,
  };
}

/** Strict mode only: notes a part the remote policy cannot prove safe. */
export function unproven(walk: Walk, part: string, reason: string): void {
  if (walk.strict && walk.unproven.length < 32) walk.unproven.push({ part, reason });
}

/** A nested verdict reported from the outside: `on host: deletes ...`, `the inline program ...`. */
export function via(inner: Verdict, prefix: string, rule: string): Verdict {
  return {
    ...inner,
    reason: `${prefix}${inner.reason}`,
    rule: inner.rule ? `${rule} > ${inner.rule}` : rule,
  };
}

export function literal(text: string): Arg {
  return { text, dynamic: false };
}
