import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchingRecords, searchHistory } from '../../../node/core/search/search.ts';
import type { RemoteCommand } from '../../../node/core/store/history.ts';
import { openStore, type Store } from '../../../node/core/store/store.ts';
import { tempDir } from '../../helpers/tmp.ts';

const HOUR = 3_600_000;
const NOW = Date.now();

function seeded(t: Parameters<typeof tempDir>[0]): Store {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  store.config.set('machine.name', 'laptop');
  const seqs = new Map<string, number>();
  const add = (origin: string, hoursAgo: number, command: string, extra: Partial<RemoteCommand> = {}) => {
    const seq = (seqs.get(origin) ?? 0) + 1;
    seqs.set(origin, seq);
    store.history.insertRemote([
      { origin, seq, ts: NOW - hoursAgo * HOUR, command, exit: 0, cwd: '/home/u', ...extra },
    ]);
  };
  add('nas', 50, 'git status');
  add('desk', 2, 'git status', { cwd: '/home/u/src' });
  add('nas', 1, 'git commit -m "status of the build"');
  add('desk', 30, 'git checkout main', { cwd: '/home/u/src/isaac' });
  add('desk', 29, 'checkout git', { cwd: '/home/u/srcother' });
  add('nas', 10, 'make test', { exit: 2, cwd: '/srv/build' });
  add('nas', 9, 'make test', { exit: 0, cwd: '/srv/build' });
  add('desk', 8, 'cat log | grep -c ERROR', { exit: 1 });
  add('desk', 7, 'echo AND OR NEAR "quoted"');
  add('desk', 6, 'docker-compose up -d');
  add('nas', 5, 'githubcli repo list');
  store.history.record({ command: 'vim notes.md', ts: NOW - 3 * HOUR, cwd: '/home/u', exit: 0 });
  return store;
}

const commands = (hits: { command: string }[]) => hits.map((h) => h.command);

test('a word finds it on every machine: best match first, then most recent', (t) => {
  const store = seeded(t);
  const hits = searchHistory(store, { text: 'status' });
  assert.deepEqual(
    hits.map((h) => `${h.origin}:${h.command}`),
    ['desk:git status', 'nas:git status', 'nas:git commit -m "status of the build"'],
  );
  assert.deepEqual(hits[0]!.spans, [[4, 10]]);
  assert.deepEqual(commands(searchHistory(store, { text: 'notes' })), ['vim notes.md'], 'own records too');
});

test('prefix and phrase queries', (t) => {
  const store = seeded(t);
  assert.deepEqual(commands(searchHistory(store, { text: 'chec' })), ['checkout git', 'git checkout main']);
  assert.deepEqual(commands(searchHistory(store, { text: 'git*', limit: 50 })).sort(), [
    'checkout git',
    'git checkout main',
    'git commit -m "status of the build"',
    'git status',
    'git status',
    'githubcli repo list',
  ]);
  assert.deepEqual(commands(searchHistory(store, { text: '"git checkout"' })), ['git checkout main']);
  assert.deepEqual(
    commands(searchHistory(store, { text: '"git" list' })),
    [],
    '"git" is a whole word, not githubcli',
  );
  assert.deepEqual(commands(searchHistory(store, { text: 'docker-compose' })), ['docker-compose up -d']);
});

test('filters: machine, exit, failed, cwd subtree, since/until, limit', (t) => {
  const store = seeded(t);
  assert.deepEqual(commands(searchHistory(store, { text: 'git', machine: 'desk' })), [
    'git status',
    'checkout git',
    'git checkout main',
  ]);
  assert.deepEqual(
    searchHistory(store, { text: 'make', exit: 2 }).map((h) => h.exit),
    [2],
  );
  assert.deepEqual(commands(searchHistory(store, { text: '', failed: true })), [
    'cat log | grep -c ERROR',
    'make test',
  ]);
  assert.deepEqual(
    commands(searchHistory(store, { text: 'git', cwd: '/home/u/src/' })),
    ['git status', 'git checkout main'],
    'the directory and below, not /home/u/srcother',
  );
  assert.deepEqual(commands(searchHistory(store, { text: 'status', since: NOW - 3 * HOUR })), [
    'git status',
    'git commit -m "status of the build"',
  ]);
  assert.deepEqual(commands(searchHistory(store, { text: 'status', until: NOW - 3 * HOUR })), ['git status']);
  assert.equal(searchHistory(store, { text: 'git', limit: 2 }).length, 2);
  assert.deepEqual(commands(searchHistory(store, { text: 'make test', distinct: true })), ['make test']);
  assert.deepEqual(searchHistory(store, { text: 'kubectl' }), []);
});

test('hostile patterns neither error nor match as operators', (t) => {
  const store = seeded(t);
  assert.deepEqual(commands(searchHistory(store, { text: 'AND' })), ['echo AND OR NEAR "quoted"']);
  assert.deepEqual(commands(searchHistory(store, { text: 'NEAR(' })), ['echo AND OR NEAR "quoted"']);
  assert.deepEqual(commands(searchHistory(store, { text: '"quoted' })), ['echo AND OR NEAR "quoted"']);
  for (const text of [
    'OR',
    'NOT git',
    'output:x',
    '{command}:git',
    '*',
    '"',
    "'); DELETE FROM commands; --",
    '^git',
    'git + x',
  ]) {
    assert.doesNotThrow(() => searchHistory(store, { text }), text);
  }
  assert.equal(store.history.count(), 12, 'nothing was changed by any pattern');
  assert.deepEqual(
    commands(searchHistory(store, { text: '|' })),
    ['cat log | grep -c ERROR'],
    'substring fallback',
  );
  assert.deepEqual(searchHistory(store, { text: '|' })[0]!.spans, [[8, 9]]);
});

test('/forget deletes with tombstones, and a later sync cannot bring a record back', (t) => {
  const store = seeded(t);
  const matches = matchingRecords(store, { text: 'status' });
  assert.equal(matches.length, 3);
  const tombstones = store.history.forget(
    matches.map((m) => m.id),
    'laptop',
  );
  assert.equal(tombstones.length, 3);
  assert.deepEqual(searchHistory(store, { text: 'status' }), []);
  const again = tombstones.map((ts) => ({ origin: ts.origin, seq: ts.seq, ts: NOW, command: 'git status' }));
  assert.equal(store.history.insertRemote(again), 0);
  assert.deepEqual(searchHistory(store, { text: 'status' }), []);
  assert.equal(matchingRecords(store, { text: 'statu' }).length, 0, 'forget matches whole words only');
});

test('the FTS plan and the filtered-scan plan give the same hits in the same order', (t) => {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  const words = [
    'git',
    'status',
    'checkout',
    'main',
    'docker',
    'run',
    'nginx',
    'café',
    'build',
    'deploy-prod',
  ];
  let s = 7;
  const pick = () => {
    s = (s * 48271) % 2147483647;
    return s;
  };
  const records: RemoteCommand[] = [];
  for (let i = 1; i <= 3000; i++) {
    const n = 1 + (pick() % 5);
    const command = Array.from({ length: n }, () => words[pick() % words.length]).join(' ');
    const origin = ['a', 'b', 'c'][pick() % 3]!;
    // Rows arrive in time order, as a live history does (the FTS plan's window follows rowids).
    records.push({
      origin,
      seq: i,
      ts: NOW - (3000 - i) * (HOUR / 3),
      command,
      exit: pick() % 4 === 0 ? 1 : 0,
      cwd: `/w/${pick() % 3}`,
    });
  }
  store.history.insertRemote(records);
  const queries = [
    { text: 'git', machine: 'a' },
    { text: 'status chec', machine: 'b', failed: true },
    { text: '"git status"', since: NOW - 200 * HOUR },
    { text: 'cafe', until: NOW - 500 * HOUR, cwd: '/w/1' },
    { text: 'main', since: NOW - 100 * HOUR, until: NOW - 10 * HOUR },
    { text: 'deploy-prod', machine: 'c', exit: 0, limit: 50 },
    { text: 'nginx run', machine: 'a', distinct: true },
  ];
  for (const q of queries) {
    const fts = searchHistory(store, q, { plan: 'fts' });
    const scan = searchHistory(store, q, { plan: 'scan' });
    assert.ok(fts.length > 0, `${JSON.stringify(q)} should match something`);
    assert.deepEqual(scan, fts, JSON.stringify(q));
  }
  const cafe = searchHistory(store, { text: 'cafe', limit: 1 })[0]!;
  assert.match(cafe.command, /café/, 'diacritics fold like the index');
  assert.equal(cafe.command.slice(cafe.spans[0]![0], cafe.spans[0]![1]), 'café');
});

test('a database without the covering index (opened read-only before migrating) still searches', (t) => {
  const store = seeded(t);
  store.db.exec('DROP INDEX commands_search_filter');
  assert.deepEqual(
    commands(searchHistory(store, { text: 'make', failed: true, machine: 'nas' }, { plan: 'fts' })),
    ['make test'],
  );
});
