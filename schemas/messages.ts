import { ProtocolError } from './errors.ts';
import { isMachineName } from './names.ts';
import type { InboxKind } from './topics.ts';

/**
 * The typed bodies carried inside envelopes, one per message `type`, with runtime validators.
 * Validators copy only the fields they know into a fresh object, so unknown extra fields from a
 * newer peer are ignored rather than passed along, and nothing unvalidated reaches the caller.
 */

export interface ExecRequest {
  cmd: string;
  cwd?: string;
  timeoutMs: number;
  /** true: send `exec-chunk`s as output is produced; false: only the `exec-result`. */
  stream: boolean;
}

export interface ExecChunk {
  stream: 'stdout' | 'stderr';
  /** UTF-8 text; senders decode with a StringDecoder so a chunk never splits a character. */
  data: string;
  /** 0, 1, 2, ... per request, so the receiver can order chunks and spot gaps. */
  n: number;
}

export interface ExecRefusal {
  reason: string;
  tier: number;
}

export interface ExecResult {
  exit: number;
  durationMs: number;
  error?: string;
  refused?: ExecRefusal;
  /** Chunks sent before this result (so the receiver knows when it has all of them). */
  chunks?: number;
}

export type Empty = Record<string, never>;

export interface TextMessage {
  text: string;
}

/** One immutable command record as it travels between peers (see DESIGN.md, "Local store"). */
export interface HistoryRecordWire {
  origin: string;
  seq: number;
  ts: number;
  command: string;
  output?: string;
  cwd?: string;
  exit?: number;
  durationMs?: number;
  session?: string;
  source?: string;
}

/** A (origin, seq) that must not be held: deleted (/forget, /clear history) or withheld (sync.exclude). */
export interface TombstoneWire {
  origin: string;
  seq: number;
}

/**
 * One immutable AI history record: a question to the AI and its outcome, redacted. AI records are
 * a series of their own per origin (their own seqs and tombstones), carried in the same batches.
 */
export interface AiRecordWire {
  origin: string;
  seq: number;
  ts: number;
  /** ask | explain | fix | review, ... */
  kind: string;
  question: string;
  answer?: string;
  /** the command the AI proposed */
  command?: string;
  provider?: string;
  model?: string;
  error?: string;
}

/**
 * Records and tombstones of command series and, since AI history syncs, of AI series. A peer
 * that predates `ai`/`aiTombstones` ignores them (validators drop unknown fields), and its
 * batches, which never carry them, are accepted as they are.
 */
export interface HistoryBatch {
  records: HistoryRecordWire[];
  tombstones?: TombstoneWire[];
  ai?: AiRecordWire[];
  aiTombstones?: TombstoneWire[];
}

export interface SyncRequest {
  /** origin machine -> highest seq the sender holds without gaps */
  have: Record<string, number>;
  /** This request answers one: do not ask back (stops request ping-pong). */
  reply?: boolean;
  /** `/sync force`: also resend every tombstone the recipient made. */
  force?: boolean;
  /** The same map over AI series; absent from a peer that keeps no AI series (an older Isaac). */
  haveAi?: Record<string, number>;
}

/**
 * A network key handed over by an admin (see node/core/identity/rotation.ts): after a rotation to
 * every member, and on `isaac promote NAME` to the promoted machine. Only admins get the seed;
 * a plain member gets the new public key and its own roster entry re-signed with it. `revoked`
 * carries the signed revoked roster entries that caused the rotation, so a member that was
 * offline learns of them before it trusts anything else.
 */
export interface NetworkKeyMessage {
  /** 32-byte Ed25519 seed of the network key: only in envelopes to admins */
  networkSeed?: Uint8Array;
  /** the recipient's own roster entry signed by `networkPk` (it republishes it) */
  rosterEntry?: Uint8Array;
  /** its public key (the receiver checks it matches the seed) */
  networkPk: Uint8Array;
  /** the key it replaces: the receiver installs it only over exactly this one */
  previousPk: Uint8Array;
  revoked: Uint8Array[];
}

export const MAX_NETWORK_KEY_REVOCATIONS = 256;

export interface MessageBodies {
  exec: ExecRequest;
  'exec-chunk': ExecChunk;
  'exec-result': ExecResult;
  'exec-cancel': Empty;
  msg: TextMessage;
  ping: Empty;
  pong: Empty;
  'history-batch': HistoryBatch;
  'sync-request': SyncRequest;
  ack: Empty;
  'network-key': NetworkKeyMessage;
}

export type MessageType = keyof MessageBodies;

/** Which inbox topic each type travels on; a type arriving on another inbox is refused. */
export const MESSAGE_INBOX: { readonly [K in MessageType]: InboxKind } = {
  exec: 'exec',
  'exec-cancel': 'exec',
  msg: 'msg',
  ping: 'msg',
  'history-batch': 'history',
  'sync-request': 'history',
  'exec-chunk': 'reply',
  'exec-result': 'reply',
  pong: 'reply',
  ack: 'reply',
  'network-key': 'msg',
};

export const MESSAGE_TYPES = Object.keys(MESSAGE_INBOX) as MessageType[];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && Object.hasOwn(MESSAGE_INBOX, value);
}

export const MAX_COMMAND_LENGTH = 64 * 1024;
export const MAX_TEXT_LENGTH = 64 * 1024;
export const MAX_EXEC_TIMEOUT_MS = 24 * 60 * 60 * 1000;
export const SAFETY_TIERS = [1, 2, 2.5, 3, 4] as const;

type Fields = Record<string, unknown>;

function fail(type: string, what: string): never {
  throw new ProtocolError(`malformed ${type} body: ${what}`);
}

function asMap(type: string, value: unknown): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    fail(type, 'not a map');
  }
  return value as Fields;
}

function str(type: string, m: Fields, key: string, max: number): string {
  const v = m[key];
  if (typeof v !== 'string') fail(type, `${key} must be text`);
  if (v.length > max) fail(type, `${key} is longer than ${max}`);
  return v;
}

function optStr(type: string, m: Fields, key: string, max: number): string | undefined {
  return m[key] === undefined || m[key] === null ? undefined : str(type, m, key, max);
}

function int(type: string, m: Fields, key: string, min: number, max: number): number {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(type, `${key} must be a whole number from ${min} to ${max}`);
  }
  return v;
}

function optInt(type: string, m: Fields, key: string, min: number, max: number): number | undefined {
  return m[key] === undefined || m[key] === null ? undefined : int(type, m, key, min, max);
}

/** Copies defined optional fields only, so encoded bodies never carry `undefined`. */
function withOptional<T extends object>(base: T, optional: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) out[k] = v;
  return out as T;
}

const MAX_TS = 8_640_000_000_000_000;

function historyRecord(value: unknown): HistoryRecordWire {
  const t = 'history-batch';
  const r = asMap(t, value);
  if (!isMachineName(r.origin)) fail(t, 'record origin is not a machine name');
  return withOptional(
    {
      origin: r.origin,
      seq: int(t, r, 'seq', 1, Number.MAX_SAFE_INTEGER),
      ts: int(t, r, 'ts', 0, MAX_TS),
      command: str(t, r, 'command', MAX_COMMAND_LENGTH),
    },
    {
      output: optStr(t, r, 'output', 16 * 1024 * 1024),
      cwd: optStr(t, r, 'cwd', 4096),
      exit: optInt(t, r, 'exit', -(2 ** 31), 2 ** 31),
      durationMs: optInt(t, r, 'durationMs', 0, Number.MAX_SAFE_INTEGER),
      session: optStr(t, r, 'session', 256),
      source: optStr(t, r, 'source', 256),
    },
  );
}

export const MAX_AI_TEXT_LENGTH = 64 * 1024;

function aiRecord(value: unknown): AiRecordWire {
  const t = 'history-batch';
  const r = asMap(t, value);
  if (!isMachineName(r.origin)) fail(t, 'AI record origin is not a machine name');
  return withOptional(
    {
      origin: r.origin,
      seq: int(t, r, 'seq', 1, Number.MAX_SAFE_INTEGER),
      ts: int(t, r, 'ts', 0, MAX_TS),
      kind: str(t, r, 'kind', 64),
      question: str(t, r, 'question', MAX_AI_TEXT_LENGTH),
    },
    {
      answer: optStr(t, r, 'answer', MAX_AI_TEXT_LENGTH),
      command: optStr(t, r, 'command', MAX_COMMAND_LENGTH),
      provider: optStr(t, r, 'provider', 256),
      model: optStr(t, r, 'model', 256),
      error: optStr(t, r, 'error', 4096),
    },
  );
}

function tombstoneList(value: unknown): TombstoneWire[] {
  const t = 'history-batch';
  if (!Array.isArray(value)) fail(t, 'tombstones must be a list');
  return value.map((item: unknown) => {
    const r = asMap(t, item);
    if (!isMachineName(r.origin)) fail(t, 'tombstone origin is not a machine name');
    return { origin: r.origin, seq: int(t, r, 'seq', 1, Number.MAX_SAFE_INTEGER) };
  });
}

function seqMap(type: string, field: string, value: unknown): Record<string, number> {
  const have = asMap(type, value);
  const out: Record<string, number> = {};
  for (const [origin, seq] of Object.entries(have)) {
    if (!isMachineName(origin)) fail(type, `${field} has a key that is not a machine name`);
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      fail(type, `${field}.${origin} must be a whole number >= 0`);
    }
    out[origin] = seq;
  }
  return out;
}

const present = (v: unknown) => v !== undefined && v !== null;

const validators: { readonly [K in MessageType]: (m: Fields) => MessageBodies[K] } = {
  exec: (m) => {
    if (typeof m.stream !== 'boolean') fail('exec', 'stream must be true or false');
    const cmd = str('exec', m, 'cmd', MAX_COMMAND_LENGTH);
    if (cmd.trim().length === 0) fail('exec', 'cmd is empty');
    return withOptional(
      { cmd, timeoutMs: int('exec', m, 'timeoutMs', 1, MAX_EXEC_TIMEOUT_MS), stream: m.stream },
      { cwd: optStr('exec', m, 'cwd', 4096) },
    );
  },
  'exec-chunk': (m) => {
    if (m.stream !== 'stdout' && m.stream !== 'stderr') fail('exec-chunk', 'stream must be stdout or stderr');
    return {
      stream: m.stream,
      data: str('exec-chunk', m, 'data', Number.MAX_SAFE_INTEGER),
      n: int('exec-chunk', m, 'n', 0, Number.MAX_SAFE_INTEGER),
    };
  },
  'exec-result': (m) => {
    const t = 'exec-result';
    let refused: ExecRefusal | undefined;
    if (m.refused !== undefined && m.refused !== null) {
      const r = asMap(t, m.refused);
      const tier = r.tier;
      if (typeof tier !== 'number' || !(SAFETY_TIERS as readonly number[]).includes(tier)) {
        fail(t, 'refused.tier must be one of 1, 2, 2.5, 3, 4');
      }
      refused = { reason: str(t, r, 'reason', 4096), tier };
    }
    return withOptional(
      {
        exit: int(t, m, 'exit', -(2 ** 31), 2 ** 31),
        durationMs: int(t, m, 'durationMs', 0, Number.MAX_SAFE_INTEGER),
      },
      {
        error: optStr(t, m, 'error', 4096),
        refused,
        chunks: optInt(t, m, 'chunks', 0, Number.MAX_SAFE_INTEGER),
      },
    );
  },
  'exec-cancel': () => ({}),
  msg: (m) => ({ text: str('msg', m, 'text', MAX_TEXT_LENGTH) }),
  ping: () => ({}),
  pong: () => ({}),
  'history-batch': (m) => {
    if (!Array.isArray(m.records)) fail('history-batch', 'records must be a list');
    const batch: HistoryBatch = { records: m.records.map(historyRecord) };
    if (present(m.tombstones)) batch.tombstones = tombstoneList(m.tombstones);
    if (present(m.ai)) {
      if (!Array.isArray(m.ai)) fail('history-batch', 'ai must be a list');
      batch.ai = m.ai.map(aiRecord);
    }
    if (present(m.aiTombstones)) batch.aiTombstones = tombstoneList(m.aiTombstones);
    return batch;
  },
  'sync-request': (m) => {
    const request: SyncRequest = { have: seqMap('sync-request', 'have', m.have) };
    if (m.reply === true) request.reply = true;
    if (m.force === true) request.force = true;
    if (present(m.haveAi)) request.haveAi = seqMap('sync-request', 'haveAi', m.haveAi);
    return request;
  },
  ack: () => ({}),
  'network-key': (m) => {
    const t = 'network-key';
    const key = (k: string): Uint8Array => {
      const v = m[k];
      if (!(v instanceof Uint8Array) || v.length !== 32) fail(t, `${k} must be 32 bytes`);
      return new Uint8Array(v);
    };
    const revoked = m.revoked ?? [];
    if (!Array.isArray(revoked) || revoked.length > MAX_NETWORK_KEY_REVOCATIONS)
      fail(t, `revoked must be a list of at most ${MAX_NETWORK_KEY_REVOCATIONS} entries`);
    const rosterEntry = m.rosterEntry;
    if (rosterEntry !== undefined && (!(rosterEntry instanceof Uint8Array) || rosterEntry.length > 1024))
      fail(t, 'rosterEntry must be up to 1024 bytes');
    if (m.networkSeed === undefined && rosterEntry === undefined)
      fail(t, 'a network key message carries the key or the recipient’s re-signed entry');
    return {
      ...(m.networkSeed === undefined ? {} : { networkSeed: key('networkSeed') }),
      ...(rosterEntry === undefined ? {} : { rosterEntry: new Uint8Array(rosterEntry as Uint8Array) }),
      networkPk: key('networkPk'),
      previousPk: key('previousPk'),
      revoked: revoked.map((e: unknown) => {
        if (!(e instanceof Uint8Array) || e.length > 1024)
          fail(t, 'revoked entries must be up to 1024 bytes');
        return new Uint8Array(e);
      }),
    };
  },
};

/** Validates `body` as the body of a `type` message; throws ProtocolError on anything else. */
export function validateMessageBody<K extends MessageType>(type: K, body: unknown): MessageBodies[K] {
  if (!isMessageType(type)) throw new ProtocolError(`unknown message type ${JSON.stringify(type)}`);
  const validate = validators[type] as (m: Fields) => MessageBodies[K];
  return validate(asMap(type, body));
}
