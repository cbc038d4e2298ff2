import { UsageError } from './errors.ts';

/**
 * Machine names as DESIGN.md fixes them: they become topic levels and MQTT client ids, so beside
 * the character rule (which already keeps out `$`, `+`, `#` and `/`) a name may not be a fixed
 * level of the topic tree: `isaac/roster/x` would read as machine "roster"'s inbox `x`, and a
 * machine named `status` would own `isaac/status/...`. schemas/topics.ts builds its topics from
 * these same words, so a new fixed level cannot be added without reserving it.
 */
export const MACHINE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

export const TOPIC_ROOT = 'isaac';
export const INBOX_KINDS = ['exec', 'msg', 'history', 'reply'] as const;
export const STATUS_LEVEL = 'status';
export const ROSTER_LEVEL = 'roster';
/** Home Assistant's discovery prefix (configurable in HA; this is its default). */
export const HA_PREFIX = 'homeassistant';

/** Words that are fixed levels of the topic tree (or soon may be), never machine names. */
export const RESERVED_MACHINE_NAMES: readonly string[] = [
  TOPIC_ROOT,
  ...INBOX_KINDS,
  STATUS_LEVEL,
  ROSTER_LEVEL,
  HA_PREFIX,
  // `!exec all` addresses every member (node/daemon/bus/targets.ts)
  'all',
];

const NAME_RULE = '1-32 characters of a-z, 0-9 and -, starting with a letter or digit';

/** Why `value` is not a machine name (one phrase naming the rule), or undefined when it is one. */
export function machineNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'a machine name is text';
  if (!MACHINE_NAME_PATTERN.test(value)) return `a machine name is ${NAME_RULE}`;
  if (RESERVED_MACHINE_NAMES.includes(value))
    return `"${value}" is a reserved topic level (reserved: ${RESERVED_MACHINE_NAMES.join(', ')})`;
  return undefined;
}

export function isMachineName(value: unknown): value is string {
  return machineNameProblem(value) === undefined;
}

export function assertMachineName(value: string): string {
  const problem = machineNameProblem(value);
  if (problem !== undefined) {
    throw new UsageError(`invalid machine name ${JSON.stringify(value)}: ${problem}`, {
      hint: 'pick another name, e.g. the host name: 1-32 of a-z, 0-9 and -, not a reserved word',
    });
  }
  return value;
}
