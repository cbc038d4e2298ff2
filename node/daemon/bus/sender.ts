import type { MessageBodies, MessageType } from '../../../schemas/messages.ts';
import { type OutboxRepo, sealedRow } from '../../core/store/outbox.ts';
import type { EnvelopeCodec } from './codec.ts';
import type { BusSession } from './session.ts';

/** Seals an envelope, writes it to the durable outbox and publishes it when connected; returns its id. */
export type Enqueue = <K extends MessageType>(
  type: K,
  to: string,
  body: MessageBodies[K],
  exp: number,
  corr?: Uint8Array,
) => Uint8Array;

/** The one way out of the daemon (DESIGN.md "Delivery rules": outbox first, deleted on PUBACK). */
export function envelopeSender(
  codec: Pick<EnvelopeCodec, 'seal'>,
  outbox: OutboxRepo,
  session: () => Pick<BusSession, 'send'> | undefined,
): Enqueue {
  return (type, to, body, exp, corr) => {
    const sealed = codec.seal({ type, to, body, exp, ...(corr ? { corr } : {}) });
    const row = sealedRow(sealed, type, to);
    outbox.add(row);
    session()?.send(row);
    return sealed.id;
  };
}
