import type { Pings } from '../pings.ts';
import type { Handler } from './types.ts';

/** `pong`: ends the round trip a `!status` waits for. */
export function pongHandler(d: { pings: Pings }): Handler<'pong'> {
  return {
    after(env) {
      if (env.corr) d.pings.answered(env.corr);
    },
  };
}
