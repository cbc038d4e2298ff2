import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  batchRecords,
  planSync,
  rangeSize,
  type SeqMap,
  type SyncPlan,
} from '../../../node/daemon/sync/plan.ts';
import { encodeCbor } from '../../../schemas/codec.ts';

const cases: { name: string; local: SeqMap; remote: SeqMap; want: SyncPlan }[] = [
  { name: 'both empty', local: {}, remote: {}, want: { send: [], request: [] } },
  {
    name: 'peer has nothing',
    local: { a: 3, b: 1 },
    remote: {},
    want: {
      send: [
        { origin: 'a', fromSeq: 1, toSeq: 3 },
        { origin: 'b', fromSeq: 1, toSeq: 1 },
      ],
      request: [],
    },
  },
  {
    name: 'we have nothing',
    local: {},
    remote: { c: 5 },
    want: { send: [], request: [{ origin: 'c', fromSeq: 1, toSeq: 5 }] },
  },
  { name: 'equal', local: { a: 7, b: 2 }, remote: { b: 2, a: 7 }, want: { send: [], request: [] } },
  {
    name: 'new origin on either side',
    local: { a: 4, x: 2 },
    remote: { a: 4, y: 9 },
    want: { send: [{ origin: 'x', fromSeq: 1, toSeq: 2 }], request: [{ origin: 'y', fromSeq: 1, toSeq: 9 }] },
  },
  {
    name: 'gaps in both directions',
    local: { a: 10, b: 3 },
    remote: { a: 6, b: 8 },
    want: {
      send: [{ origin: 'a', fromSeq: 7, toSeq: 10 }],
      request: [{ origin: 'b', fromSeq: 4, toSeq: 8 }],
    },
  },
  {
    name: 'peer ahead everywhere',
    local: { a: 1, b: 1 },
    remote: { a: 100, b: 2 },
    want: {
      send: [],
      request: [
        { origin: 'a', fromSeq: 2, toSeq: 100 },
        { origin: 'b', fromSeq: 2, toSeq: 2 },
      ],
    },
  },
  {
    name: 'zero means nothing held',
    local: { a: 0 },
    remote: { a: 0, b: 0 },
    want: { send: [], request: [] },
  },
  {
    name: 'nonsense counts are treated as nothing held',
    local: { a: -5, b: 1.5, c: Number.NaN, d: 2 },
    remote: { a: 2 },
    want: { send: [{ origin: 'd', fromSeq: 1, toSeq: 2 }], request: [{ origin: 'a', fromSeq: 1, toSeq: 2 }] },
  },
  {
    name: 'inherited keys are not origins',
    local: JSON.parse('{"__proto__": 5, "a": 1}') as SeqMap,
    remote: {},
    want: {
      send: [
        { origin: '__proto__', fromSeq: 1, toSeq: 5 },
        { origin: 'a', fromSeq: 1, toSeq: 1 },
      ],
      request: [],
    },
  },
];

for (const c of cases) {
  test(`planSync: ${c.name}`, () => {
    assert.deepEqual(planSync(c.local, c.remote), c.want);
    const reverse = planSync(c.remote, c.local);
    assert.deepEqual(
      reverse,
      { send: c.want.request, request: c.want.send },
      'the peer computes the mirror plan',
    );
  });
}

test('planSync with a scope sends only our own series and asks the peer only for its own', () => {
  const plan = planSync(
    { me: 5, third: 9, peer: 1 },
    { me: 2, third: 1, peer: 4, other: 3 },
    { self: 'me', peer: 'peer' },
  );
  assert.deepEqual(plan, {
    send: [{ origin: 'me', fromSeq: 3, toSeq: 5 }],
    request: [{ origin: 'peer', fromSeq: 2, toSeq: 4 }],
  });
  assert.equal(rangeSize(plan.send), 3);
});

test('batchRecords keeps order, stays under the cap, and sets aside what can never fit', () => {
  const records = Array.from({ length: 500 }, (_, i) => ({
    origin: 'a',
    seq: i + 1,
    ts: 1,
    command: 'x'.repeat(i % 300),
  }));
  const huge = { origin: 'a', seq: 999, ts: 1, command: 'y'.repeat(5000) };
  const { batches, tooLarge } = batchRecords([...records.slice(0, 250), huge, ...records.slice(250)], 4096);
  assert.deepEqual(tooLarge, [huge]);
  assert.deepEqual(batches.flat(), records);
  for (const batch of batches) {
    assert.ok(encodeCbor({ records: batch }).byteLength <= 4096, 'a batch over the cap');
  }
  assert.ok(batches.length < 40, `batches should be filled, got ${batches.length}`);
  assert.deepEqual(batchRecords([], 1024), { batches: [], tooLarge: [] });
});
