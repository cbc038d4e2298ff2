import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchSpans, parseQuery } from '../../../node/core/search/query.ts';
import { parseTimeSpec, relativeTime } from '../../../node/core/search/when.ts';
import { openMemoryDatabase } from '../../../node/core/store/db.ts';

test('words become quoted FTS strings; the last bare word is an implicit prefix', () => {
  assert.equal(parseQuery('git sta').match, 'command : ("git" "sta"*)');
  assert.equal(parseQuery('git*  log').match, 'command : ("git"* "log"*)');
  assert.equal(parseQuery('"git checkout" main').match, 'command : ("git checkout" "main"*)');
  assert.equal(parseQuery('main "git checkout"').match, 'command : ("main" "git checkout")');
  assert.equal(parseQuery('ls a').match, 'command : ("ls" "a")', 'a one-letter last word is not a prefix');
  assert.equal(
    parseQuery('docker-compose up', { implicitPrefix: false }).match,
    'command : ("docker compose" "up")',
  );
});

test('FTS operators and syntax characters in a pattern are plain text', () => {
  const db = openMemoryDatabase();
  const patterns = [
    'AND',
    'git AND',
    'OR OR',
    'NOT x',
    'NEAR(a b)',
    'a NEAR/2 b',
    '"',
    '"unterminated',
    'a"b"c',
    '^start',
    '+plus',
    'col:val',
    'command:x',
    'output : secret',
    '{command output}: x',
    '(((',
    ')',
    '*',
    '**',
    'x*y',
    "'; DROP TABLE commands; --",
    '-',
    '\\',
    '\u0000',
  ];
  for (const p of patterns) {
    const { match } = parseQuery(p);
    if (match === undefined) continue;
    assert.doesNotThrow(
      () => db.prepare('SELECT rowid FROM commands_fts WHERE commands_fts MATCH ?').all(match),
      `pattern ${JSON.stringify(p)} -> ${match}`,
    );
    assert.match(match, /^command : \((\s?"[^"]*"\*?)+\)$/, `only quoted strings in ${match}`);
  }
  assert.equal(parseQuery('|| &&').match, undefined, 'no token: substring search instead');
  assert.equal(parseQuery('|| &&').literal, '|| &&');
  db.close();
});

test('match spans cover the matched words, prefixes only their prefix', () => {
  const terms = parseQuery('git chec').terms;
  assert.deepEqual(matchSpans('git checkout main; git status', terms), [
    [0, 3],
    [4, 8],
    [19, 22],
  ]);
  assert.deepEqual(matchSpans('GIT Checkout', parseQuery('"git checkout"').terms), [
    [0, 3],
    [4, 12],
  ]);
  assert.deepEqual(
    matchSpans('checkout git', parseQuery('"git checkout"').terms),
    [],
    'a phrase keeps its order',
  );
  assert.deepEqual(matchSpans('legit', parseQuery('git').terms), [], 'not inside a word');
});

test('time specs: dates, days, relative and short forms', () => {
  const now = new Date(2026, 10, 24, 15, 30, 0).getTime();
  const day = (y: number, m: number, d: number) => new Date(y, m - 1, d).getTime();
  assert.deepEqual(parseTimeSpec('2026-11-20', now), { from: day(2026, 11, 20), to: day(2026, 11, 21) });
  assert.deepEqual(parseTimeSpec('yesterday', now), { from: day(2026, 11, 23), to: day(2026, 11, 24) });
  assert.deepEqual(parseTimeSpec('Today', now), { from: day(2026, 11, 24), to: day(2026, 11, 25) });
  assert.equal(parseTimeSpec('3h', now).from, now - 3 * 3_600_000);
  assert.equal(parseTimeSpec('30m', now).from, now - 30 * 60_000);
  assert.equal(parseTimeSpec('2 days ago', now).from, new Date(2026, 10, 22, 15, 30).getTime());
  assert.equal(parseTimeSpec('1 week ago', now).from, new Date(2026, 10, 17, 15, 30).getTime());
  assert.equal(parseTimeSpec('an hour ago', now).from, now - 3_600_000);
  assert.equal(parseTimeSpec('2w', now).from, new Date(2026, 10, 10, 15, 30).getTime());
  assert.equal(parseTimeSpec('1 month ago', now).from, new Date(2026, 9, 24, 15, 30).getTime());
  assert.equal(parseTimeSpec('2026-11-20T10:15', now).from, new Date(2026, 10, 20, 10, 15).getTime());
  assert.equal(parseTimeSpec('2026-11-20T10:15:00Z', now).from, Date.UTC(2026, 10, 20, 10, 15));
  for (const bad of ['', 'soon', '2026-13-01', '2026-02-30', '3 parsecs ago', '-3h', 'yesterday-ish', '12']) {
    assert.throws(() => parseTimeSpec(bad, now), /cannot read/, bad);
  }
});

test('relative times read naturally', () => {
  const now = Date.now();
  assert.equal(relativeTime(now - 1000, now), 'just now');
  assert.equal(relativeTime(now - 42_000, now), '42s ago');
  assert.equal(relativeTime(now - 5 * 60_000, now), '5m ago');
  assert.equal(relativeTime(now - 3 * 3_600_000, now), '3h ago');
  assert.equal(relativeTime(now - 4 * 86_400_000, now), '4d ago');
  assert.match(relativeTime(now - 90 * 86_400_000, now), /^\d{4}-\d{2}-\d{2}$/);
});
