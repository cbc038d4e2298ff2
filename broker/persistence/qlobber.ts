/** Typed handles on qlobber (CommonJS, untyped): the same matchers aedes-persistence uses. */
import { createRequire } from 'node:module';
import type { StoredPacket, TopicSubscription } from './interface.ts';

const require = createRequire(import.meta.url);

export const QLOBBER_OPTIONS = { wildcard_one: '+', wildcard_some: '#', separator: '/' } as const;

export interface SubscriptionTrie {
  add(topic: string, sub: TopicSubscription): void;
  remove(topic: string, sub: { clientId: string; topic: string }): void;
  match(topic: string): TopicSubscription[];
  readonly subscriptionsCount: number;
}

export interface PatternSet {
  add(pattern: string): void;
  test(topic: string): boolean;
}

const QlobberSub = require('qlobber/aedes/qlobber-sub') as new (
  options: typeof QLOBBER_OPTIONS,
) => SubscriptionTrie;
const { QlobberTrue } = require('qlobber') as {
  QlobberTrue: new (options: typeof QLOBBER_OPTIONS) => PatternSet;
};
const PacketClass = require('aedes-packet') as new (
  original: StoredPacket,
  broker?: { id: string; counter: number },
) => StoredPacket;

export function subscriptionTrie(): SubscriptionTrie {
  return new QlobberSub(QLOBBER_OPTIONS);
}

export function patternSet(patterns: readonly string[]): PatternSet {
  const set = new QlobberTrue(QLOBBER_OPTIONS);
  for (const p of patterns) set.add(p);
  return set;
}

/** An aedes-packet Packet: the normalised shape Aedes queues (drops `length`, adds defaults). */
export function toPacket(original: StoredPacket, broker?: { id: string; counter: number }): StoredPacket {
  return new PacketClass(original, broker);
}
