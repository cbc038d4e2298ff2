import { assertMachineName, isMachineName } from './names.ts';

/** The MQTT topic tree of DESIGN.md. Every topic Isaac uses is built here and nowhere else. */
export const TOPIC_ROOT = 'isaac';
export const INBOX_KINDS = ['exec', 'msg', 'history', 'reply'] as const;
export type InboxKind = (typeof INBOX_KINDS)[number];

export const topics = {
  inbox(machine: string, kind: InboxKind): string {
    return `${TOPIC_ROOT}/${assertMachineName(machine)}/${kind}`;
  },
  status(machine: string): string {
    return `${TOPIC_ROOT}/${assertMachineName(machine)}/status`;
  },
  roster(machine: string): string {
    return `${TOPIC_ROOT}/roster/${assertMachineName(machine)}`;
  },
  allStatus: `${TOPIC_ROOT}/+/status`,
  allRoster: `${TOPIC_ROOT}/roster/+`,
  /** Home Assistant discovery prefix (configurable in HA; this is its default). */
  haPrefix: 'homeassistant',
  haStatus: 'homeassistant/status',
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
  if (second === 'roster') return isMachineName(third) ? { kind: 'roster', machine: third } : undefined;
  if (!isMachineName(second)) return undefined;
  if (third === 'status') return { kind: 'status', machine: second };
  if ((INBOX_KINDS as readonly string[]).includes(third))
    return { kind: third as InboxKind, machine: second };
  return undefined;
}

/** Default payload cap shared by broker and node (DESIGN.md: 256 KiB). */
export const DEFAULT_MAX_PAYLOAD = 256 * 1024;
