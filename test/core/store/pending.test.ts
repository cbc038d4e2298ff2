import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { enqueueWithoutDaemon } from '../../../node/core/store/pending.ts';
import { openStore } from '../../../node/core/store/store.ts';
import { databaseAtVersion } from '../../helpers/old-database.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** A database as Isaac before migration 3 left it: pending requests as "pending:" rows in the outbox. */
function databaseAtVersion2(home: string): void {
  const db = databaseAtVersion(join(home, 'isaac.db'), 2);
  const row = db.prepare(
    'INSERT INTO outbox(id, topic, payload, kind, peer, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const json = (v: object) => Buffer.from(JSON.stringify(v));
  row.run(
    Buffer.alloc(16, 1),
    '',
    json({ op: 'msg', target: 'beta', text: 'hi', createdAt: 2000 }),
    'pending:msg',
    'beta',
    2000,
    9e12,
  );
  row.run(Buffer.alloc(16, 2), 'isaac/beta/msg', Buffer.from([1, 2, 3]), 'msg', 'beta', 1500, 9e12);
  row.run(
    Buffer.alloc(16, 3),
    '',
    json({ op: 'exec', targets: 'web*', cmd: 'uptime', ttlMs: 60_000, createdAt: 1000 }),
    'pending:exec',
    'web*',
    1000,
    9e12,
  );
  row.run(Buffer.alloc(16, 4), '', Buffer.from('not json'), 'pending:exec', 'x', 3000, 9e12);
  db.close();
}

test('migration 3 moves pending requests out of the outbox into their own table, oldest first, once', (t) => {
  const home = tempDir(t);
  databaseAtVersion2(home);
  const store = openStore(home);
  t.after(() => store.close());
  assert.equal(store.outbox.count(), 1, 'only the sealed envelope stays in the outbox');
  assert.deepEqual(
    store.outbox.pending().map((r) => r.kind),
    ['msg'],
  );
  const rows = store.pending.list();
  assert.deepEqual(
    rows.map((r) => r.request),
    [
      { op: 'exec', targets: 'web*', cmd: 'uptime', ttlMs: 60_000, createdAt: 1000 },
      { op: 'msg', target: 'beta', text: 'hi', createdAt: 2000 },
      undefined,
    ],
  );
  store.close();

  const again = openStore(home);
  t.after(() => again.close());
  assert.equal(again.pending.count(), 3, 'opening again moves nothing twice');
  assert.equal(again.outbox.count(), 1);
});

test('a request queued without a daemon waits unsealed in pending_requests, never in the outbox', (t) => {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  enqueueWithoutDaemon(store, { op: 'exec', targets: 'beta', cmd: 'df -h' });
  enqueueWithoutDaemon(store, { op: 'msg', target: 'beta', text: 'later' });
  assert.equal(store.outbox.count(), 0);
  const [exec, msg] = store.pending.list();
  assert.equal(exec?.request?.op, 'exec');
  assert.equal(msg?.request?.op === 'msg' && msg.request.text, 'later');
  store.pending.delete(exec!.id);
  assert.equal(store.pending.count(), 1);
});
