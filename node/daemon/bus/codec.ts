import { openEnvelope, type SealInput, sealEnvelope } from '../../../schemas/envelope.ts';
import { UsageError } from '../../../schemas/errors.ts';
import type { MessageType } from '../../../schemas/messages.ts';
import type { BoxKeyPair } from '../../../schemas/sealedbox.ts';
import type { InboxKind } from '../../../schemas/topics.ts';
import type { MachinesRepo } from '../../core/store/machines.ts';
import type { OpenedEnvelope, OutgoingEnvelope } from './envelope-port.ts';

export interface CodecKeys {
  me: string;
  signSecretKey: Uint8Array;
  boxKeyPair: BoxKeyPair;
}

/**
 * Seals to and verifies against the members in the `machines` table (filled only from roster
 * entries signed by the network key; revoked machines have no usable keys here).
 * Time checks (skew, expiry) and the seen-id check are the daemon's, so that an expired exec can
 * still be answered "expired" to its verified sender.
 */
export class EnvelopeCodec {
  readonly me: string;

  constructor(
    private readonly keys: CodecKeys,
    private readonly machines: MachinesRepo,
  ) {
    this.me = keys.me;
  }

  seal<K extends MessageType>(
    e: OutgoingEnvelope<K>,
    nowMs = Date.now(),
  ): { id: Uint8Array; payload: Uint8Array; topic: string; exp: number } {
    const peer = this.machines.get(e.to);
    if (!peer?.box_pk || peer.revoked !== null) {
      throw new UsageError(`${e.to} is not a member of this network`, { hint: 'see /show machines' });
    }
    const input: SealInput<K> = {
      type: e.type,
      from: this.me,
      to: e.to,
      body: e.body,
      ttlMs: Math.max(1, e.exp - nowMs),
      ...(e.corr ? { corr: e.corr } : {}),
    };
    return sealEnvelope(input, this.keys.signSecretKey, new Uint8Array(peer.box_pk), nowMs);
  }

  open(payload: Uint8Array, topicMachine: string, topicKind: InboxKind): OpenedEnvelope {
    return openEnvelope(payload, {
      myName: this.me,
      myBoxKeyPair: this.keys.boxKeyPair,
      topicMachine,
      topicKind,
      lookupSignPk: (name) => {
        const m = this.machines.get(name);
        return m?.sign_pk && m.revoked === null ? new Uint8Array(m.sign_pk) : undefined;
      },
      // the daemon applies skew/expiry itself (see class comment)
      nowMs: 0,
      maxSkewMs: Number.MAX_SAFE_INTEGER,
    });
  }
}
