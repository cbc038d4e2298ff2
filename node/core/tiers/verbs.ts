import type { Arg } from './expand.ts';
import type { Verdict } from './walk.ts';

/**
 * The destroy effect of tools no rule describes: a subcommand verb that destroys (`helm
 * uninstall`, `gcloud compute instances delete`, `virsh undefine`, `fly apps:destroy`) and SQL
 * or key-value statements that drop data, given to any program that is not a known reader.
 */

const DESTROYING = new Set([
  'destroy',
  'delete',
  'del',
  'remove',
  'rm',
  'rmi',
  'rmdir',
  'uninstall',
  'purge',
  'prune',
  'drop',
  'dropdb',
  'flush',
  'flushall',
  'flushdb',
  'clean',
  'cleanup',
  'wipe',
  'wipeout',
  'zap',
  'format',
  'kill',
  'killall',
  'stop',
  'disable',
  'mask',
  'terminate',
  'erase',
  'nuke',
  'teardown',
  'truncate',
  'undefine',
  'unregister',
  'deregister',
  'decommission',
  'evict',
  'shutdown',
  'poweroff',
  'halt',
  'down',
  'shred',
  'revoke',
  'rb',
  'unpublish',
  'unload',
  'bootout',
]);

/** Verbs that destroy only with a forcing option (`reset --hard`). */
const FORCED = new Set(['reset', 'restore', 'rollback', 'overwrite', 'replace', 'recreate']);
const FORCING = /^(--hard|--force|-f|--yes|-y|--confirm|--no-confirm|--quiet|-q|--all)$/;

const WORDLIKE = /^[A-Za-z][A-Za-z0-9_:-]*$/;
const MAX_SUBCOMMAND_DEPTH = 4;

function destroyingVerb(word: string, forced: boolean): string | undefined {
  const lower = word.toLowerCase();
  if (DESTROYING.has(lower) || (forced && FORCED.has(lower))) return lower;
  // compound subcommands: delete-bucket, apps:destroy, kill-session, terminate-instances
  for (const piece of lower.split(/[-_:]/)) {
    if (piece !== lower && (DESTROYING.has(piece) || (forced && FORCED.has(piece)))) return piece;
  }
  return undefined;
}

/** The first few bare words are where a subcommand sits (`gcloud compute instances delete`). */
export function verbVerdict(name: string, args: readonly Arg[], part: string): Verdict | undefined {
  const forced = args.some((a) => FORCING.test(a.text));
  for (const a of args.slice(1)) {
    if (a.text === '--') break;
    const option = /^--?([a-z][a-z-]*)(=.*)?$/.exec(a.text);
    if (option && option[1]!.length > 2 && DESTROYING.has(option[1]!)) {
      return {
        tier: 3,
        reason: `\`${name} ${a.text}\` destroys or removes something`,
        part,
        rule: 'destroying option',
      };
    }
  }
  let seen = 0;
  for (let k = 1; k < args.length && seen < MAX_SUBCOMMAND_DEPTH; k++) {
    const a = args[k]!.text;
    if (a === '--') break;
    if (a.startsWith('-')) continue;
    if (!WORDLIKE.test(a)) {
      seen++;
      continue;
    }
    seen++;
    const verb = destroyingVerb(a, forced);
    if (verb) {
      return {
        tier: 3,
        reason: `\`${name} ${a}\` destroys or stops something (subcommand verb "${verb}")`,
        part,
        rule: 'destroying subcommand verb',
      };
    }
  }
  return undefined;
}

const DESTRUCTIVE_STATEMENT =
  /\b(drop\s+(database|schema|table|user|role|index|view|collection|keyspace)|truncate\s+(table\s+)?[\w."`]+|delete\s+from|flushall|flushdb|dropDatabase\s*\(|\.drop\s*\(|\.deleteMany\s*\(|\.remove\s*\(\s*\{\s*\})/i;

/** SQL or database statements in an argument that drop or delete data. */
export function statementVerdict(args: readonly Arg[], part: string): Verdict | undefined {
  for (let k = 1; k < args.length; k++) {
    const m = DESTRUCTIVE_STATEMENT.exec(args[k]!.text);
    if (m) {
      return {
        tier: 3,
        reason: `the statement "${m[0]}" deletes data`,
        part,
        rule: 'destructive database statement',
      };
    }
  }
  return undefined;
}
