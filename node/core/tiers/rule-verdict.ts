import type { Arg } from './expand.ts';
import { evaluateRules } from './rules.ts';
import { statementVerdict, verbVerdict } from './verbs.ts';
import { basename, higher, overrideOf, type Site, unproven, type Verdict, via, type Walk } from './walk.ts';
import { judgeWrites } from './writes.ts';

/**
 * A program's own verdict from its effects: the rules.json entry (per subcommand and option),
 * destroying subcommand verbs where no rule decided, destructive statements given to programs
 * that are not known readers, and what it writes. `tier.<command>` overrides apply last.
 */

/** Shell builtins and keywords the strict mode knows do nothing beyond the shell itself. */
const HARMLESS_BUILTINS = new Set([
  'true',
  'false',
  ':',
  'test',
  '[',
  '[[',
  'echo',
  'printf',
  'pwd',
  'cd',
  'wait',
]);

/** An unknown tool given a whole command line (`ansible all -a 'rm -rf /'`, `pdsh -w h 'cmd'`). */
function commandLineArgument(name: string, args: Arg[], walk: Walk): Verdict | undefined {
  let worst: Verdict | undefined;
  for (const a of args.slice(1)) {
    const first = /^\s*([^\s=]+)\s/.exec(a.text)?.[1];
    if (a.dynamic || !first || walk.rules.lookup(basename(first)) === undefined) continue;
    const inner = walk.ops.nested(a.text, walk);
    if (inner.tier >= 3 && (!worst || inner.tier > worst.tier))
      worst = via(
        inner,
        `${name} is given the command line \`${a.text}\`, which `,
        'command line given to an unknown program',
      );
  }
  return worst;
}

export function ruleVerdict(name: string, args: Arg[], site: Site, walk: Walk): Verdict {
  const rules = walk.rules.lookup(name);
  if (
    rules &&
    args.length === 2 &&
    /^--(help|version)$/.test(args[1]!.text) &&
    overrideOf(walk, name) === undefined
  ) {
    return { tier: 1, reason: 'shows help', part: site.part, rule: `${name} --help/--version` };
  }
  let base: Verdict;
  if (rules) {
    const r = evaluateRules(rules, {
      args: args.slice(1).map((a) => a.text),
      piped: site.piped,
      cwd: walk.cwd,
    });
    base = {
      tier: r.tier,
      reason: r.reason,
      part: site.part,
      rule: r.matched > 0 ? `rules.json ${name} rule ${r.matched}` : `rules.json ${name}`,
    };
    if (r.matched === 0 && rules.subcommands) base = higher(base, verbVerdict(name, args, site.part) ?? base);
    if (r.tier >= 2) base = higher(base, statementVerdict(args, site.part) ?? base);
  } else {
    const fn = walk.functions.has(name);
    if (!fn && !HARMLESS_BUILTINS.has(name))
      unproven(walk, site.part, `${name} is not a program the policy knows`);
    else if (fn) unproven(walk, site.part, `${name} is a shell function`);
    base = {
      tier: walk.defaultTier,
      reason: fn ? 'runs a shell function' : 'not a known command',
      part: site.part,
      rule: fn ? 'shell function' : 'tier.default for unknown programs',
    };
    if (!fn) {
      base = higher(base, commandLineArgument(name, args, walk) ?? base);
      base = higher(base, verbVerdict(name, args, site.part) ?? base);
      base = higher(base, statementVerdict(args, site.part) ?? base);
    }
  }
  base = higher(base, judgeWrites(name, args, site.part, walk) ?? base);
  const override = overrideOf(walk, name);
  if (override === undefined || base.tier === 4 || override === base.tier) return base;
  return {
    tier: override,
    reason: `${base.reason} (tier.${name} is ${override})`,
    part: site.part,
    rule: `tier.${name}`,
  };
}
