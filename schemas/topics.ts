import {
  assertMachineName,
  HA_PREFIX,
  INBOX_KINDS,
  isMachineName,
  ROSTER_LEVEL,
  STATUS_LEVEL,
  TOPIC_ROOT,
} from './names.ts';

/**
 * The MQTT topic tree of DESIGN.md. Every topic Isaac uses is built here and nowhere else, from
 * the fixed levels that schemas/names.ts reserves (no machine can be named like one of them).
 */
export { INBOX_KINDS, TOPIC_ROOT };
export type InboxKind = (typeof INBOX_KINDS)[number];

export const topics = {
  inbox(machine: string, kind: InboxKind): string {
    return `${TOPIC_ROOT}/${assertMachineName(machine)}/${kind}`;
  },
  status(machine: string): string {
    return `${TOPIC_ROOT}/${assertMachineName(machine)}/${STATUS_LEVEL}`;
  },
  roster(machine: string): string {
    return `${TOPIC_ROOT}/${ROSTER_LEVEL}/${assertMachineName(machine)}`;
  },
  allStatus: `${TOPIC_ROOT}/+/${STATUS_LEVEL}`,
  allRoster: `${TOPIC_ROOT}/${ROSTER_LEVEL}/+`,
  /** Home Assistant discovery prefix (configurable in HA; this is its default). */
  haPrefix: HA_PREFIX,
  haStatus: `${HA_PREFIX}/${STATUS_LEVEL}`,
} as const;

/**
 * What a node subscribes to: its own four inboxes, everyone's status and roster entries, and Home
 * Assistant's birth message. Join creates the persistent session with exactly this set, so a
 * node whose first connect finds "session present" needs nothing more.
 */
export function nodeSubscriptions(machine: string): Record<string, { qos: 1 }> {
  const subs: Record<string, { qos: 1 }> = {};
  for (const kind of INBOX_KINDS) subs[topics.inbox(machine, kind)] = { qos: 1 };
  subs[topics.allStatus] = { qos: 1 };
  subs[topics.allRoster] = { qos: 1 };
  subs[topics.haStatus] = { qos: 1 };
  return subs;
}

export type ParsedTopic =
  | { kind: InboxKind; machine: string }
  | { kind: 'status'; machine: string }
  | { kind: 'roster'; machine: string };

/** Parses a concrete (wildcard-free) Isaac topic; undefined for anything else. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== TOPIC_ROOT) return undefined;
  const [, second, third] = parts as [string, string, string];
  if (second === ROSTER_LEVEL) return isMachineName(third) ? { kind: 'roster', machine: third } : undefined;
  if (!isMachineName(second)) return undefined;
  if (third === STATUS_LEVEL) return { kind: 'status', machine: second };
  if ((INBOX_KINDS as readonly string[]).includes(third))
    return { kind: third as InboxKind, machine: second };
  return undefined;
}

/** Default payload cap shared by broker and node (DESIGN.md: 256 KiB). */
export const DEFAULT_MAX_PAYLOAD = 256 * 1024;
