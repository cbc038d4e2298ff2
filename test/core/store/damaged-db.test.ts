import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../../node/core/store/store.ts';
import { makeKeys, startPlainBroker } from '../../helpers/bus-nodes.ts';
import { isaacEnv, runIsaac } from '../../helpers/isaac.ts';
import { startSyncNode } from '../../helpers/sync-node.ts';
import { waitFor } from '../../helpers/tmp.ts';

const ROWS = 3000;

/** A real isaac.db in `home` with `ROWS` records of a peer and a few of our own. */
async function filledHome(home: string, env: ReturnType<typeof isaacEnv>): Promise<void> {
  assert.equal((await runIsaac(env, ['-c', 'echo own-line'])).status, 0);
  const db = new Database(join(home, 'isaac.db'));
  const insert = db.prepare('INSERT INTO commands(origin, seq, ts, command, output) VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) insert.run('peer', i, Date.now(), `peer command ${i}`, 'o'.repeat(200));
  })();
  db.close();
}

function scribble(file: string, at: number, length: number): void {
  const fd = openSync(file, 'r+');
  try {
    const junk = Buffer.alloc(length);
    for (let i = 0; i < length; i++) junk[i] = (i * 131 + 7) & 0xff;
    writeSync(fd, junk, 0, length, at);
  } finally {
    closeSync(fd);
  }
}

function damagedCopies(home: string): string[] {
  return readdirSync(home).filter((f) => /^isaac\.db\.damaged-\d{4}-\d\d-\d\dT/.test(f));
}

function count(home: string, sql: string): number {
  const db = new Database(join(home, 'isaac.db'), { readonly: true });
  try {
    return (db.prepare(sql).pluck().get() as number) ?? 0;
  } finally {
    db.close();
  }
}

function quickCheck(home: string): unknown {
  const db = new Database(join(home, 'isaac.db'), { readonly: true });
  try {
    return db.pragma('quick_check', { simple: true });
  } finally {
    db.close();
  }
}

function betaRecords(store: Store): number {
  return store.db.prepare("SELECT count(*) FROM commands WHERE origin = 'beta'").pluck().get() as number;
}

describe('a damaged isaac.db', () => {
  for (const damage of ['truncated', 'scribbled over'] as const) {
    test(`${damage}: named, moved aside, readable rows kept, isaac -c still runs`, async (t) => {
      const env = isaacEnv(t);
      await filledHome(env.home, env);
      const file = join(env.home, 'isaac.db');
      const size = statSync(file).size;
      if (damage === 'truncated') truncateSync(file, Math.floor(size / 3));
      else scribble(file, 4096 * 40, 4096 * 6); // inside the records' pages

      const run = await runIsaac(env, ['-c', 'true']);
      assert.equal(run.status, 0, run.stderr);
      const notices = run.stderr.split('\n').filter((l) => l.includes('was damaged'));
      assert.equal(notices.length, 1, run.stderr);
      assert.match(notices[0]!, new RegExp(`history database ${file} was damaged`));
      const moved = damagedCopies(env.home);
      assert.equal(moved.length, 1);
      assert.match(notices[0]!, new RegExp(moved[0]!.replace(/\./g, '\\.')));
      assert.equal(
        statSync(join(env.home, moved[0]!)).size > 0,
        true,
        'the damaged file is kept for the user',
      );

      const saved = count(env.home, "SELECT count(*) FROM commands WHERE origin = 'peer'");
      assert.ok(saved > 0 && saved < ROWS, `some but not all records are readable (${saved})`);
      assert.match(notices[0]!, /with the \d+ rows that could be read/);
      assert.equal(
        count(env.home, "SELECT count(*) FROM commands_fts WHERE commands_fts MATCH 'peer'"),
        saved,
      );
      assert.equal(quickCheck(env.home), 'ok');

      const again = await runIsaac(env, ['-c', 'echo still-here']);
      assert.equal(again.stdout, 'still-here\n');
      assert.doesNotMatch(again.stderr, /damaged/, 'repaired once, not at every start');
    });
  }

  test('a header scribbled over (not a database at all): a fresh one, and the line runs', async (t) => {
    const env = isaacEnv(t);
    await filledHome(env.home, env);
    scribble(join(env.home, 'isaac.db'), 0, 100);
    const run = await runIsaac(env, ['-c', 'echo fine']);
    assert.equal(run.stdout, 'fine\n');
    assert.equal(run.status, 0);
    assert.match(run.stderr, /was damaged/);
    assert.equal(damagedCopies(env.home).length, 1);
  });

  test('synced history comes back from the other machine after the repair', async (t) => {
    const broker = await startPlainBroker(t);
    const a = makeKeys('alpha');
    const b = makeKeys('beta');
    const env = isaacEnv(t);
    const na = await startSyncNode(t, a, [a, b], broker.url, env.home);
    const nb = await startSyncNode(t, b, [a, b], broker.url);
    for (let i = 1; i <= 400; i++)
      nb.store.history.record({ command: `beta work ${i}`, output: 'x'.repeat(300) });
    na.store.history.record({ command: 'alpha own work' });
    await waitFor(
      () => na.store.history.count() === 401 && nb.store.history.count() === 401,
      'both in sync',
      60_000,
    );
    await na.stop();

    const file = join(env.home, 'isaac.db');
    truncateSync(file, Math.floor(statSync(file).size / 4));
    const notices: string[] = [];
    const repaired = openStore(env.home, { notice: (line) => notices.push(line) });
    const betaKept = betaRecords(repaired);
    repaired.close();
    assert.equal(notices.length, 1);
    assert.ok(betaKept < 400, `the truncation lost beta's records (${betaKept} kept)`);

    // A peer sends only its own series (records are trusted only from their origin), so beta's
    // records come back; alpha's own lost ones cannot.
    const back = await startSyncNode(t, a, [a, b], broker.url, env.home);
    await waitFor(
      () => betaRecords(back.store) === 400,
      "alpha holds every one of beta's records again",
      60_000,
    );
  });
});
