import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchHistory } from '../../../node/core/search/search.ts';
import type { NewCommand } from '../../../node/core/store/history.ts';
import { openStore, type Store } from '../../../node/core/store/store.ts';
import { tempDir } from '../../helpers/tmp.ts';

function store(t: Parameters<typeof tempDir>[0]): Store {
  const s = openStore(tempDir(t));
  s.config.set('machine.name', 'box');
  t.after(() => s.close());
  return s;
}

const entry = (i: number): NewCommand => ({
  command: `make target-${i}`,
  ts: 1_700_000_000_000 + i,
  source: 'import',
  importKey: `key-${i}`,
});

function seqs(s: Store): number[] {
  return s.db.prepare<[], number>("SELECT seq FROM commands WHERE origin = 'box' ORDER BY seq").pluck().all();
}

test('recordMany: a batch of new rows, then one mixing stored keys, repeats and new rows: seqs without gaps', (t) => {
  const s = store(t);
  // more rows than one INSERT statement holds, so a batch spans several
  const first = Array.from({ length: 4500 }, (_, i) => entry(i));
  assert.equal(s.history.recordMany(first), 4500);
  const mixed = [
    entry(10), // stored
    entry(9000),
    entry(9000), // a repeat within the batch
    ...Array.from({ length: 2500 }, (_, i) => entry(4400 + i)), // 100 stored, 2400 new
    { command: 'no key', ts: 1_800_000_000_000, source: 'import' },
  ];
  assert.equal(s.history.recordMany(mixed), 1 + 2400 + 1);
  assert.deepEqual(
    seqs(s),
    Array.from({ length: 4500 + 2402 }, (_, i) => i + 1),
  );
  assert.equal(s.history.count(), 6902);
  assert.equal(s.db.prepare("SELECT COUNT(*) FROM commands WHERE import_key = 'key-9000'").pluck().get(), 1);
  // the index holds each row once: what was tried and rolled back left nothing behind
  assert.equal(searchHistory(s, { text: '"target 4450"' }).length, 1);
  assert.equal(searchHistory(s, { text: '"target 9000"' }).length, 1);
  assert.equal(s.history.recordMany(mixed), 1, 'again: only the row without an import key goes in');
  assert.deepEqual(
    seqs(s),
    Array.from({ length: 6903 }, (_, i) => i + 1),
  );
});
