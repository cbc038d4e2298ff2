import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../schemas/errors.ts';
import {
  MESSAGE_INBOX,
  MESSAGE_TYPES,
  type MessageType,
  validateMessageBody,
} from '../../schemas/messages.ts';
import { INBOX_KINDS } from '../../schemas/topics.ts';

const good: { [K in MessageType]: unknown } = {
  exec: { cmd: 'uptime', timeoutMs: 1000, stream: true, cwd: '/home/u' },
  'exec-chunk': { stream: 'stderr', data: 'warning: x\n', n: 3 },
  'exec-result': { exit: 0, durationMs: 12, chunks: 4 },
  'exec-cancel': {},
  msg: { text: 'hello' },
  ping: {},
  pong: {},
  'history-batch': {
    records: [{ origin: 'alice', seq: 1, ts: 5, command: 'ls', exit: 0, durationMs: 3, cwd: '/' }],
    ai: [
      {
        origin: 'alice',
        seq: 1,
        ts: 6,
        kind: 'ask',
        question: 'list files',
        command: 'ls',
        provider: 'ollama',
      },
    ],
    aiTombstones: [{ origin: 'alice', seq: 2 }],
  },
  'sync-request': { have: { alice: 10, bob: 0 }, haveAi: { alice: 1 } },
  ack: {},
  'network-key': {
    networkSeed: new Uint8Array(32).fill(1),
    networkPk: new Uint8Array(32).fill(2),
    previousPk: new Uint8Array(32).fill(3),
    revoked: [new Uint8Array(40)],
  },
};

const bad: { [K in MessageType]: unknown[] } = {
  exec: [
    { cmd: 'ls', timeoutMs: 1000 },
    { cmd: '', timeoutMs: 1000, stream: false },
    { cmd: 'ls', timeoutMs: 0, stream: false },
    { cmd: 'ls', timeoutMs: 1.5, stream: false },
    { cmd: 'ls', timeoutMs: 1000, stream: 'yes' },
    { cmd: 'x'.repeat(70_000), timeoutMs: 1000, stream: false },
    { cmd: ['ls'], timeoutMs: 1000, stream: false },
    { cmd: 'ls', timeoutMs: 1000, stream: false, cwd: 5 },
  ],
  'exec-chunk': [
    { stream: 'stdin', data: 'x', n: 0 },
    { stream: 'stdout', data: new Uint8Array(2), n: 0 },
    { stream: 'stdout', data: 'x', n: -1 },
  ],
  'exec-result': [
    { exit: 0 },
    { exit: 'ok', durationMs: 1 },
    { exit: 1, durationMs: 1, refused: { reason: 'x', tier: 5 } },
    { exit: 1, durationMs: 1, refused: 'no' },
  ],
  'exec-cancel': [null, [], 'cancel'],
  msg: [{}, { text: 7 }, { text: 'x'.repeat(70_000) }],
  ping: [[1]],
  pong: [new Uint8Array(1)],
  'history-batch': [
    {},
    { records: {} },
    { records: [{ origin: 'Bad Name', seq: 1, ts: 1, command: 'ls' }] },
    { records: [{ origin: 'a', seq: 0, ts: 1, command: 'ls' }] },
    { records: [], ai: {} },
    { records: [], ai: [{ origin: 'Bad Name', seq: 1, ts: 1, kind: 'ask', question: 'q' }] },
    { records: [], ai: [{ origin: 'a', seq: 1, ts: 1, kind: 'ask' }] },
    { records: [], ai: [{ origin: 'a', seq: 1, ts: 1, kind: 'ask', question: 'x'.repeat(70_000) }] },
    { records: [], aiTombstones: [{ origin: 'a', seq: 0 }] },
  ],
  'sync-request': [
    {},
    { have: [] },
    { have: { 'NOT OK': 1 } },
    { have: { alice: -1 } },
    { have: { alice: '3' } },
    { have: {}, haveAi: { alice: -1 } },
    { have: {}, haveAi: [] },
  ],
  ack: [undefined],
  'network-key': [
    {},
    {
      networkSeed: new Uint8Array(31),
      networkPk: new Uint8Array(32),
      previousPk: new Uint8Array(32),
      revoked: [],
    },
    { networkSeed: new Uint8Array(32), networkPk: 'key', previousPk: new Uint8Array(32), revoked: [] },
    {
      networkSeed: new Uint8Array(32),
      networkPk: new Uint8Array(32),
      previousPk: new Uint8Array(32),
      revoked: 'x',
    },
    {
      networkSeed: new Uint8Array(32),
      networkPk: new Uint8Array(32),
      previousPk: new Uint8Array(32),
      revoked: [new Uint8Array(2000)],
    },
  ],
};

test('every type has an inbox, and every inbox is used', () => {
  assert.deepEqual(new Set(Object.values(MESSAGE_INBOX)), new Set(INBOX_KINDS));
  assert.equal(MESSAGE_INBOX.exec, 'exec');
  assert.equal(MESSAGE_INBOX['exec-result'], 'reply');
});

for (const type of MESSAGE_TYPES) {
  test(`${type}: a good body passes as given, bad ones are refused with the field named`, () => {
    assert.deepEqual(validateMessageBody(type, good[type]), good[type]);
    for (const body of bad[type]) {
      assert.throws(
        () => validateMessageBody(type, body),
        (err: unknown) => err instanceof ProtocolError && err.message.startsWith(`malformed ${type} body`),
        JSON.stringify(body),
      );
    }
  });
}

test('unknown fields from a newer peer are dropped; optional fields stay absent, not undefined', () => {
  const body = validateMessageBody('exec', {
    cmd: 'ls',
    timeoutMs: 5,
    stream: false,
    priority: 'high',
    cwd: undefined,
  });
  assert.deepEqual(Object.keys(body).sort(), ['cmd', 'stream', 'timeoutMs']);
  const refused = validateMessageBody('exec-result', {
    exit: 126,
    durationMs: 0,
    refused: { reason: 'tier 4', tier: 4, extra: 1 },
  });
  assert.deepEqual(refused, { exit: 126, durationMs: 0, refused: { reason: 'tier 4', tier: 4 } });
});

test('an unknown type is a ProtocolError', () => {
  assert.throws(
    () => validateMessageBody('shutdown' as MessageType, {}),
    (err: unknown) => err instanceof ProtocolError && /unknown message type/.test((err as Error).message),
  );
  assert.throws(() => validateMessageBody('__proto__' as MessageType, {}), ProtocolError);
  assert.throws(() => validateMessageBody('toString' as MessageType, {}), ProtocolError);
});

test('an older peer’s history batch and sync request (no AI fields) pass as they are', () => {
  const batch = {
    records: [{ origin: 'alice', seq: 1, ts: 5, command: 'ls' }],
    tombstones: [{ origin: 'alice', seq: 2 }],
  };
  assert.deepEqual(validateMessageBody('history-batch', batch), batch);
  assert.deepEqual(Object.keys(validateMessageBody('sync-request', { have: { alice: 3 } })), ['have']);
});
