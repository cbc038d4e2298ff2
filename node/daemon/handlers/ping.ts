import type { Enqueue } from '../bus/sender.ts';
import type { Handler } from './types.ts';

/** A pong never outlives the ping it answers, nor a minute. */
const PONG_TTL_MS = 60_000;

/** `ping` (from `!status`): the pong is queued in the same transaction that records the ping. */
export function pingHandler(d: { enqueue: Enqueue; clock(): number }): Handler<'ping'> {
  return {
    apply(env) {
      d.enqueue('pong', env.from, {}, Math.min(env.exp, d.clock() + PONG_TTL_MS), env.id);
    },
  };
}
