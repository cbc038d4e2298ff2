import type { OutgoingExecs } from '../outgoing-execs.ts';
import type { Handler } from './types.ts';

/** Output of one of our `!exec`s, streamed to the waiting shell (or kept for the notification). */
export function execChunkHandler(d: { outgoing: OutgoingExecs }): Handler<'exec-chunk'> {
  return {
    after: (env) => d.outgoing.onChunk(env),
  };
}
