import type { Envelope, EnvelopeOf } from '../../../schemas/envelope.ts';
import type { MessageBodies, MessageType } from '../../../schemas/messages.ts';

/**
 * The daemon's view of envelopes: what it asks to seal, and what it gets from a verified open.
 */
export interface OutgoingEnvelope<K extends MessageType = MessageType> {
  type: K;
  to: string;
  body: MessageBodies[K];
  /** ms since epoch after which the recipient must not act on it */
  exp: number;
  corr?: Uint8Array;
}

/** A verified envelope of any type: narrow on `type` to get its typed body. */
export type OpenedEnvelope = Envelope;

/** A verified envelope of one type. */
export type Opened<K extends MessageType> = EnvelopeOf<K>;

export function idHex(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}
