import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchHistory } from '../../../node/core/search/search.ts';
import type { RemoteCommand } from '../../../node/core/store/history.ts';
import { openStore, type Store } from '../../../node/core/store/store.ts';
import { tempDir } from '../../helpers/tmp.ts';

const HOUR = 3_600_000;
const NOW = Date.now();

/**
 * A history where long prefixes matter: `nginx` with many suffixed tokens (nginx12, nginxctl),
 * `ngi*` words that are not nginx, a rare `gitl*` behind a common `git`, and timestamps that do
 * not follow the row order (synced late) so newest-by-time and newest-by-row differ.
 */
function history(t: Parameters<typeof tempDir>[0], extra: string[] = []): Store {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  const words = [
    'nginx',
    'nginx12',
    'nginxctl',
    'ngircd',
    'nginx-proxy',
    'git',
    'status',
    'gitlab',
    'run',
    'deploy',
  ];
  let s = 11;
  const pick = (n: number) => {
    s = (s * 48271) % 2147483647;
    return s % n;
  };
  const records: RemoteCommand[] = [];
  for (let i = 1; i <= 4000; i++) {
    const n = 1 + pick(4);
    let command = Array.from({ length: n }, () => words[pick(words.length)]).join(' ');
    if (i % 97 === 0) command = 'git status'; // repeats, for distinct
    command = command.replace(/gitlab/g, 'git');
    if (i % 600 === 0) command = 'gitlab-runner run'; // rare behind the common git
    records.push({
      origin: ['a', 'b'][pick(2)]!,
      seq: i,
      ts: NOW - (4000 - i) * HOUR + (pick(10) === 0 ? -900 * HOUR : 0),
      command,
      exit: pick(5) === 0 ? 1 : 0,
    });
  }
  // peers' batches arrive per origin, so row order and time order differ
  store.history.insertRemote(records.filter((r) => r.origin !== 'a'));
  store.history.insertRemote(records.filter((r) => r.origin === 'a'));
  // the newest rows, so every window holds them
  store.history.insertRemote(
    extra.map((command, k) => ({ origin: 'c', seq: k + 1, ts: NOW - k * 1000, command })),
  );
  return store;
}

const QUERIES = [
  { text: 'nginx' },
  { text: 'nginx', distinct: true },
  { text: 'nginx', limit: 60 },
  { text: 'ngin*' },
  { text: 'nginx12 run', distinct: true },
  { text: 'git stat' },
  { text: '"git status" depl', distinct: true },
  { text: 'gitl' }, // rare behind `git`: given up to the full query
  { text: 'gitla', distinct: true },
  { text: 'deplo', machine: 'b' },
  { text: 'nginx', failed: true, distinct: true },
  { text: 'nginxc' },
];

test('long prefixes asked of the 3-letter prefix index give exactly what FTS5 gives for the prefix', (t) => {
  const store = history(t);
  for (const q of QUERIES) {
    const full = searchHistory(store, q, { plan: 'fts-full' });
    assert.ok(full.length > 0, `${JSON.stringify(q)} should match something`);
    assert.deepEqual(searchHistory(store, q, { plan: 'fts' }), full, JSON.stringify(q));
  }
});

test('where JavaScript and FTS5 read a non-ASCII command differently, FTS5 decides', (t) => {
  // U+1AB0 (a combining mark newer than FTS5's Unicode 6.1 tables) stays inside the index's token
  // ("ngin\u1ab0x" is no nginx*), while JavaScript drops it as a diacritic ("nginx"). U+0301 is
  // folded away by both.
  const odd = ['ngin\u1ab0x -t', 'ngi\u1ab0nx reload'];
  const accented = 'ngin\u0301x -s reload';
  const store = history(t, [...odd, accented]);
  for (const q of [{ text: 't nginx' }, { text: 't nginx', distinct: true }, { text: 'reload nginx' }]) {
    const full = searchHistory(store, q, { plan: 'fts-full' });
    const narrowed = searchHistory(store, q, { plan: 'fts' });
    assert.deepEqual(narrowed, full, JSON.stringify(q));
    assert.ok(
      !narrowed.some((h) => odd.includes(h.command)),
      `${JSON.stringify(q)}: the index sees no nginx there`,
    );
  }
  const hits = searchHistory(store, { text: 'reload nginx' }, { plan: 'fts' });
  assert.deepEqual(
    hits.map((h) => h.command),
    [accented],
    'an accent the index folds is still found',
  );
});
