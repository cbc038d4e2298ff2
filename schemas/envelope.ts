import { randomBytes } from 'node:crypto';
import { decodeCbor, encodeCbor } from './codec.ts';
import { ProtocolError } from './errors.ts';
import {
  isMessageType,
  MESSAGE_INBOX,
  type MessageBodies,
  type MessageType,
  validateMessageBody,
} from './messages.ts';
import { isMachineName } from './names.ts';
import { type BoxKeyPair, openSealedBox, SEALED_BOX_OVERHEAD, sealBox } from './sealedbox.ts';
import { signDetached, verifyDetached } from './sign.ts';
import { DEFAULT_MAX_PAYLOAD, type InboxKind, topics } from './topics.ts';

/**
 * The envelope of DESIGN.md: body = CBOR map {v, id, type, from, to, ts, exp, corr?, body},
 * signed (Ed25519, sender's key) over the encoded body, then CBOR([body_bytes, sig]) sealed
 * (libsodium sealed box) to the recipient's box key. Every payload on an inbox topic is one.
 */
export const ENVELOPE_VERSION = 1;
export const ENVELOPE_ID_BYTES = 16;
/** How far a sender's clock may run ahead of ours before its envelopes are refused. */
export const DEFAULT_MAX_SKEW_MS = 5 * 60 * 1000;
/** Longest lifetime an envelope may claim; bounds how long seen ids must be kept. */
export const MAX_ENVELOPE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface EnvelopeOf<K extends MessageType> {
  v: typeof ENVELOPE_VERSION;
  id: Uint8Array;
  type: K;
  from: string;
  to: string;
  ts: number;
  exp: number;
  corr?: Uint8Array;
  body: MessageBodies[K];
}

/** An opened, verified envelope; narrow on `type` to get the typed body. */
export type Envelope = { [K in MessageType]: EnvelopeOf<K> }[MessageType];

export interface SealInput<K extends MessageType> {
  type: K;
  from: string;
  to: string;
  body: MessageBodies[K];
  ttlMs: number;
  corr?: Uint8Array;
}

export interface SealedEnvelope {
  id: Uint8Array;
  payload: Uint8Array;
  /** the envelope's expiry (ms since epoch): outbox rows and seen ids live until then */
  exp: number;
  /** the inbox topic this envelope must be published on */
  topic: string;
}

/** For golden vectors only: a fixed id and ephemeral key make the output reproducible. */
export interface SealFixed {
  id?: Uint8Array;
  ephemeral?: BoxKeyPair;
}

export type EnvelopeRefusal =
  | 'not-a-box'
  | 'decrypt-failed'
  | 'malformed'
  | 'unknown-sender'
  | 'bad-signature'
  | 'wrong-recipient'
  | 'topic-mismatch'
  | 'from-future'
  | 'expired'
  | 'replay'
  | 'too-large';

/** A refused envelope: `reason` is the code to log and count, the message says why in words. */
export class EnvelopeError extends ProtocolError {
  constructor(
    readonly reason: EnvelopeRefusal,
    detail: string,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super(`envelope refused (${reason}): ${detail}`, options);
  }
}

export function sealEnvelope<K extends MessageType>(
  input: SealInput<K>,
  senderSignSecretKey: Uint8Array,
  recipientBoxPk: Uint8Array,
  nowMs: number = Date.now(),
  fixed: SealFixed = {},
): SealedEnvelope {
  if (!isMachineName(input.from) || !isMachineName(input.to)) {
    throw new ProtocolError(`cannot seal: invalid machine name in from/to (${input.from} -> ${input.to})`);
  }
  if (!Number.isSafeInteger(input.ttlMs) || input.ttlMs <= 0 || input.ttlMs > MAX_ENVELOPE_TTL_MS) {
    throw new ProtocolError(`cannot seal: ttl ${input.ttlMs} ms is outside 1 ms .. 30 days`);
  }
  const body = validateMessageBody(input.type, input.body);
  const id = fixed.id ?? new Uint8Array(randomBytes(ENVELOPE_ID_BYTES));
  const ts = Math.floor(nowMs);
  const exp = ts + input.ttlMs;
  const fields: Record<string, unknown> = {
    v: ENVELOPE_VERSION,
    id,
    type: input.type,
    from: input.from,
    to: input.to,
    ts,
    exp,
  };
  if (input.corr !== undefined) fields.corr = input.corr;
  fields.body = body;
  const bodyBytes = encodeCbor(fields);
  const sig = signDetached(bodyBytes, senderSignSecretKey);
  const payload = sealBox(encodeCbor([bodyBytes, sig]), recipientBoxPk, fixed.ephemeral);
  if (payload.length > DEFAULT_MAX_PAYLOAD) {
    throw new EnvelopeError(
      'too-large',
      `${payload.length} bytes is over the ${DEFAULT_MAX_PAYLOAD}-byte payload cap`,
      {
        hint: 'send it in smaller pieces',
      },
    );
  }
  return { id, payload, exp, topic: topics.inbox(input.to, MESSAGE_INBOX[input.type]) };
}

export interface OpenOptions {
  myName: string;
  myBoxKeyPair: BoxKeyPair;
  /** the machine level of the topic the payload arrived on */
  topicMachine: string;
  /** the inbox kind of that topic; when given, the type must belong to it */
  topicKind?: InboxKind;
  /** the sender's signing key from a verified, non-revoked roster entry */
  lookupSignPk(name: string): Uint8Array | undefined;
  nowMs?: number;
  maxSkewMs?: number;
  isSeen?(id: Uint8Array): boolean;
  maxPayload?: number;
}

/** An envelope's signed fields before the body is checked against its type. */
export interface EnvelopeHeader {
  id: Uint8Array;
  type: MessageType;
  from: string;
  to: string;
  ts: number;
  exp: number;
  corr: Uint8Array | undefined;
  body: unknown;
}

function readHeader(bodyBytes: Uint8Array): EnvelopeHeader {
  const decoded = decodeCbor(bodyBytes) as unknown;
  if (
    typeof decoded !== 'object' ||
    decoded === null ||
    Array.isArray(decoded) ||
    decoded instanceof Uint8Array
  ) {
    throw new EnvelopeError('malformed', 'body is not a map');
  }
  const m = decoded as Record<string, unknown>;
  if (m.v !== ENVELOPE_VERSION) {
    throw new EnvelopeError('malformed', `unsupported envelope version ${String(m.v)}`, {
      hint: 'update isaac on both machines',
    });
  }
  const { id, type, from, to, ts, exp, corr } = m;
  if (!(id instanceof Uint8Array) || id.length !== ENVELOPE_ID_BYTES)
    throw new EnvelopeError('malformed', 'id is not 16 bytes');
  if (!isMessageType(type))
    throw new EnvelopeError('malformed', `unknown message type ${JSON.stringify(type)}`);
  if (!isMachineName(from) || !isMachineName(to))
    throw new EnvelopeError('malformed', 'from/to is not a machine name');
  if (!Number.isSafeInteger(ts) || !Number.isSafeInteger(exp))
    throw new EnvelopeError('malformed', 'ts/exp is not a time');
  const tsN = ts as number;
  const expN = exp as number;
  if (expN <= tsN || expN - tsN > MAX_ENVELOPE_TTL_MS)
    throw new EnvelopeError('malformed', 'exp is not within 30 days after ts');
  if (corr !== undefined && !(corr instanceof Uint8Array && corr.length === ENVELOPE_ID_BYTES)) {
    throw new EnvelopeError('malformed', 'corr is not 16 bytes');
  }
  return { id, type, from, to, ts: tsN, exp: expN, corr, body: m.body };
}

/** Opens, verifies and checks one payload; throws EnvelopeError (a ProtocolError) on refusal. */
export function openEnvelope(payload: Uint8Array, options: OpenOptions): Envelope {
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (payload.length > maxPayload)
    throw new EnvelopeError('too-large', `${payload.length} bytes is over the ${maxPayload}-byte cap`);
  if (payload.length < SEALED_BOX_OVERHEAD)
    throw new EnvelopeError('not-a-box', `${payload.length} bytes is too short for a sealed box`);
  const inner = openSealedBox(payload, options.myBoxKeyPair);
  if (inner === undefined)
    throw new EnvelopeError('decrypt-failed', 'not sealed to this machine’s box key, or altered');

  let outer: unknown;
  try {
    outer = decodeCbor(inner);
  } catch (err) {
    throw new EnvelopeError('malformed', 'sealed content is not CBOR', { cause: err });
  }
  if (!Array.isArray(outer) || outer.length !== 2)
    throw new EnvelopeError('malformed', 'sealed content is not [body, signature]');
  const [bodyBytes, sig] = outer as [unknown, unknown];
  if (!(bodyBytes instanceof Uint8Array) || !(sig instanceof Uint8Array) || sig.length !== 64) {
    throw new EnvelopeError('malformed', 'body or signature has the wrong type');
  }
  let header: EnvelopeHeader;
  try {
    header = readHeader(bodyBytes);
  } catch (err) {
    if (err instanceof EnvelopeError) throw err;
    throw new EnvelopeError('malformed', 'body is not CBOR', { cause: err });
  }

  const signPk = options.lookupSignPk(header.from);
  if (signPk === undefined)
    throw new EnvelopeError('unknown-sender', `${header.from} is not a member of this network`);
  if (!verifyDetached(bodyBytes, sig, signPk)) {
    throw new EnvelopeError('bad-signature', `signature does not match ${header.from}’s key`);
  }
  let body: MessageBodies[MessageType];
  try {
    body = validateMessageBody(header.type, header.body);
  } catch (err) {
    throw new EnvelopeError('malformed', err instanceof Error ? err.message : String(err), { cause: err });
  }

  if (header.to !== options.myName)
    throw new EnvelopeError('wrong-recipient', `addressed to ${header.to}, not ${options.myName}`);
  if (header.to !== options.topicMachine) {
    throw new EnvelopeError(
      'topic-mismatch',
      `addressed to ${header.to} but arrived on ${options.topicMachine}'s topic`,
    );
  }
  if (options.topicKind !== undefined && MESSAGE_INBOX[header.type] !== options.topicKind) {
    throw new EnvelopeError('topic-mismatch', `${header.type} arrived on the ${options.topicKind} inbox`);
  }
  const now = options.nowMs ?? Date.now();
  const skew = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (header.ts > now + skew)
    throw new EnvelopeError('from-future', `sent ${header.ts - now} ms in the future`);
  if (header.exp <= now) throw new EnvelopeError('expired', `expired ${now - header.exp} ms ago`);
  if (options.isSeen?.(header.id)) throw new EnvelopeError('replay', 'this envelope id was already received');

  const envelope = {
    v: ENVELOPE_VERSION,
    id: header.id,
    type: header.type,
    from: header.from,
    to: header.to,
    ts: header.ts,
    exp: header.exp,
    body,
  } as Envelope;
  if (header.corr !== undefined) envelope.corr = header.corr;
  return envelope;
}
