import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { paths } from '../../../node/core/paths.ts';
import { heldAiMap } from '../../../node/core/store/ai-sync-state.ts';
import { openStore } from '../../../node/core/store/store.ts';
import { tempDir } from '../../helpers/tmp.ts';

const asked = (question: string, ts: number) => ({
  ts,
  kind: 'ask',
  provider: 'ollama',
  model: 'llama3.2',
  question,
  answer: 'an answer',
  command: null,
  error: null,
});

test('migration 7: the AI questions asked before it become this machine’s series, in the order asked', (t) => {
  const home = tempDir(t);
  openStore(home).close();
  // the database as migrations 1 to 6 left it, with three questions and a machine name
  const old = new Database(paths.database(home));
  old.exec(
    'DROP TABLE ai_history; DROP TABLE ai_tombstones; DROP INDEX IF EXISTS ai_history_series; DROP INDEX IF EXISTS ai_history_ts;',
  );
  old.exec(`CREATE TABLE ai_history (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,
    provider TEXT, model TEXT, question TEXT NOT NULL, answer TEXT, command TEXT, error TEXT)`);
  old.pragma('user_version = 6');
  const insert = old.prepare('INSERT INTO ai_history(ts, kind, question) VALUES (?, ?, ?)');
  for (const [ts, q] of [
    [30, 'third'],
    [10, 'first'],
    [20, 'second'],
  ] as const) {
    insert.run(ts, 'ask', q);
  }
  old.prepare("INSERT INTO config(key, value, updated_at) VALUES ('machine.name', 'laptop', 0)").run();
  old.close();

  const store = openStore(home);
  t.after(() => store.close());
  const rows = store.db.prepare('SELECT origin, seq, question FROM ai_history ORDER BY seq').all();
  assert.deepEqual(rows, [
    { origin: 'laptop', seq: 1, question: 'third' },
    { origin: 'laptop', seq: 2, question: 'first' },
    { origin: 'laptop', seq: 3, question: 'second' },
  ]);
  assert.equal(store.aiHistory.record(asked('fourth', 40)).seq, 4);
  assert.deepEqual(heldAiMap(store.db), { laptop: 4 });
});

test('the AI series: redacted on the way in, idempotent for peers, tombstoned seqs stay taken, searched by words', (t) => {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  store.config.set('machine.name', 'laptop');
  const secret = `ghp_${'A1b2C3d4E5'.repeat(3)}abcdef`;
  const mine = store.aiHistory.record(asked(`why is GITHUB_TOKEN=${secret} refused`, 1));
  assert.equal(mine.question, 'why is GITHUB_TOKEN=[REDACTED] refused');
  const theirs = {
    origin: 'nas',
    seq: 1,
    ts: 2,
    kind: 'explain',
    question: `rsync with token ${secret}`,
    answer: 'copies files',
  };
  assert.equal(store.aiHistory.insertRemote([theirs, theirs]), 1, 'one row per (origin, seq)');
  assert.equal(store.aiHistory.recent(5, { machine: 'nas' })[0]?.question, 'rsync with token [REDACTED]');
  // a gap in nas's series: held up to 1 only
  store.aiHistory.insertRemote([{ ...theirs, seq: 3, question: 'later', answer: 'done' }]);
  assert.deepEqual(heldAiMap(store.db), { laptop: 1, nas: 1 });

  assert.deepEqual(
    store.aiHistory.search('copies').map((r) => `${r.origin}#${r.seq}`),
    ['nas#1'],
    'the answer is searched too',
  );
  assert.deepEqual(
    store.aiHistory.search('refus*', { machine: 'laptop' }).map((r) => r.seq),
    [1],
  );
  assert.deepEqual(store.aiHistory.search('refused', { machine: 'nas' }), []);

  assert.equal(store.aiHistory.clear('laptop'), 1);
  assert.equal(store.aiHistory.record(asked('again', 5)).seq, 2, 'a deleted seq is not used again');
  assert.equal(
    store.aiHistory.insertRemote([{ origin: 'laptop', seq: 1, ts: 1, kind: 'ask', question: 'back?' }]),
    0,
  );
  assert.equal(store.aiHistory.count(), 3);
});
