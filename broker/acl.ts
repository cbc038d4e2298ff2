import { parseTopic, topics } from '../schemas/topics.ts';

/**
 * The per-machine topic rules of DESIGN.md's topic tree, as pure functions so the broker, the
 * tests and deploy/mosquitto.acl can be checked against one statement of them.
 *
 * Home Assistant discovery convention: `homeassistant/<component>/<machine>/<object_id>/config`
 * (or without object_id), i.e. HA's `node_id` level is the machine name.
 */
export type AclRefusal = 'subscribe-denied' | 'publish-denied' | 'retain-denied';

const HA_COMPONENT = /^[a-z_]{1,32}$/;
const HA_OBJECT_ID = /^[a-zA-Z0-9_-]{1,64}$/;

/** Returns undefined when `me` may subscribe to `filter`, else the refusal reason. */
export function checkSubscribe(me: string, filter: string): AclRefusal | undefined {
  if (filter === topics.allStatus || filter === topics.allRoster || filter === topics.haStatus)
    return undefined;
  const parsed = parseTopic(filter);
  if (!parsed) return 'subscribe-denied';
  if (parsed.kind === 'status' || parsed.kind === 'roster') return undefined;
  return parsed.machine === me ? undefined : 'subscribe-denied';
}

export interface PublishIntent {
  topic: string;
  retain: boolean;
}

/** Returns undefined when `me` may publish to the topic with that retain flag, else the reason. */
export function checkPublish(me: string, { topic, retain }: PublishIntent): AclRefusal | undefined {
  if (isOwnHaDiscovery(me, topic)) return undefined;
  const parsed = parseTopic(topic);
  if (!parsed) return 'publish-denied';
  if (parsed.kind === 'status' || parsed.kind === 'roster') {
    return parsed.machine === me ? undefined : 'publish-denied';
  }
  // an inbox: anyone may send, nobody may leave a retained message in it
  return retain ? 'retain-denied' : undefined;
}

export function isOwnHaDiscovery(me: string, topic: string): boolean {
  const parts = topic.split('/');
  if (parts[0] !== topics.haPrefix || parts.at(-1) !== 'config') return false;
  if (parts.length !== 4 && parts.length !== 5) return false;
  if (!HA_COMPONENT.test(parts[1] ?? '') || parts[2] !== me) return false;
  return parts.length === 4 || HA_OBJECT_ID.test(parts[3] ?? '');
}

/**
 * Observers (Home Assistant, dashboards) read the plain status topics and the discovery configs
 * and may announce `homeassistant/status`; they never see an inbox or a roster entry.
 */
export function checkObserverSubscribe(filter: string): AclRefusal | undefined {
  if (filter === topics.allStatus) return undefined;
  if (filter === `${topics.haPrefix}/#` || filter.startsWith(`${topics.haPrefix}/`)) return undefined;
  const parsed = parseTopic(filter);
  return parsed?.kind === 'status' ? undefined : 'subscribe-denied';
}

export function checkObserverPublish({ topic }: PublishIntent): AclRefusal | undefined {
  return topic === topics.haStatus ? undefined : 'publish-denied';
}
