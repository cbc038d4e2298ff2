import type { Handler } from './types.ts';

/** `ack` is reserved in the wire contract; nothing sends it yet, so it is only acknowledged. */
export function ackHandler(): Handler<'ack'> {
  return {};
}
