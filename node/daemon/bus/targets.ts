import { UsageError } from '../../../schemas/errors.ts';
import { isMachineName } from '../../../schemas/names.ts';
import { globToRegExp, isGlob } from '../../core/glob.ts';

/**
 * Resolves a target spec of `!exec`: a name, a comma list, a glob (`web*`, `db-?`) or `all`,
 * against the roster's members. Names must be members; a glob that matches nothing is an error.
 */
export function resolveTargets(spec: string, members: readonly string[]): string[] {
  const parts = spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) throw new UsageError('no target machine given', { hint: 'e.g. !exec web1 uptime' });
  const chosen = new Set<string>();
  for (const part of parts) {
    if (part === 'all') {
      for (const m of members) chosen.add(m);
      continue;
    }
    if (isGlob(part)) {
      const pattern = globToRegExp(part);
      const matched = members.filter((m) => pattern.test(m));
      if (matched.length === 0)
        throw new UsageError(`no machine matches ${part}`, { hint: 'see /show machines' });
      for (const m of matched) chosen.add(m);
      continue;
    }
    if (!isMachineName(part)) throw new UsageError(`invalid machine name ${JSON.stringify(part)}`);
    if (!members.includes(part))
      throw new UsageError(`${part} is not a member of this network`, { hint: 'see /show machines' });
    chosen.add(part);
  }
  if (chosen.size === 0)
    throw new UsageError('no machines in the network yet', { hint: 'see /show machines' });
  return [...chosen].sort();
}
