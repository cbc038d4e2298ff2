import type { HistoryRecordWire, TombstoneWire } from '../../../schemas/messages.ts';
import type { Db } from './db.ts';
import type { CommandRecord } from './history.ts';

/**
 * SQL for sync: the held map, ranges of a series, tombstones, and the per-peer cursors in
 * `sync_state`. `sync_state(peer, origin = me)` is the highest own seq handed to the durable
 * outbox for that peer; `sync_state(peer, '*tombstones')` the tombstone rowid cursor.
 */
export const TOMBSTONE_CURSOR = '*tombstones';

/**
 * `{origin: highest seq held without a gap}`, tombstones counting as held. Cheap when a series
 * has no gap (count = max, one index pass); otherwise the first gap is looked up for that origin.
 */
export function heldMap(db: Db): Record<string, number> {
  // Two index-only aggregates; a record and its tombstone never coexist (deletes write both).
  const rows = db
    .prepare<[], { origin: string; n: number; top: number }>(
      `SELECT origin, SUM(n) AS n, MAX(top) AS top FROM (
         SELECT origin, COUNT(*) AS n, MAX(seq) AS top FROM commands GROUP BY origin
         UNION ALL SELECT origin, COUNT(*), MAX(seq) FROM tombstones GROUP BY origin
       ) GROUP BY origin`,
    )
    .all();
  const firstGap = db.prepare<{ origin: string }, { seq: number }>(
    `SELECT h.seq FROM (SELECT seq FROM commands WHERE origin = @origin
                        UNION SELECT seq FROM tombstones WHERE origin = @origin) h
     WHERE NOT EXISTS (SELECT 1 FROM commands WHERE origin = @origin AND seq = h.seq + 1)
       AND NOT EXISTS (SELECT 1 FROM tombstones WHERE origin = @origin AND seq = h.seq + 1)
     ORDER BY h.seq LIMIT 1`,
  );
  const hasOne = db.prepare<{ origin: string }, { one: number }>(
    `SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM commands WHERE origin = @origin AND seq = 1)
        OR EXISTS (SELECT 1 FROM tombstones WHERE origin = @origin AND seq = 1)`,
  );
  const map: Record<string, number> = {};
  for (const r of rows) {
    if (r.n === r.top) map[r.origin] = r.top;
    else
      map[r.origin] = hasOne.get({ origin: r.origin }) ? (firstGap.get({ origin: r.origin })?.seq ?? 0) : 0;
  }
  return map;
}

/** Records and tombstones of one series in [from, to], as they travel. */
export function seriesRange(
  db: Db,
  origin: string,
  from: number,
  to: number,
): { records: (HistoryRecordWire & { output?: string })[]; tombstones: TombstoneWire[] } {
  const rows = db
    .prepare<
      [string, number, number],
      Pick<
        CommandRecord,
        'seq' | 'ts' | 'command' | 'output' | 'cwd' | 'exit' | 'duration_ms' | 'session' | 'source'
      >
    >(
      `SELECT seq, ts, command, output, cwd, exit, duration_ms, session, source FROM commands
       WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
    )
    .all(origin, from, to);
  const records = rows.map((r) => {
    const wire: HistoryRecordWire = { origin, seq: r.seq, ts: r.ts, command: r.command };
    if (r.output !== null) wire.output = r.output;
    if (r.cwd !== null) wire.cwd = r.cwd;
    if (r.exit !== null) wire.exit = r.exit;
    if (r.duration_ms !== null) wire.durationMs = r.duration_ms;
    if (r.session !== null) wire.session = r.session;
    wire.source = r.source;
    return wire;
  });
  const tombstones = db
    .prepare<[string, number, number], TombstoneWire>(
      'SELECT origin, seq FROM tombstones WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq',
    )
    .all(origin, from, to);
  return { records, tombstones };
}

export function ownMaxSeq(db: Db, origin: string): number {
  return (
    db
      .prepare<[string, string], { top: number | null }>(
        `SELECT MAX(top) AS top FROM (SELECT MAX(seq) AS top FROM commands WHERE origin = ?
                                      UNION ALL SELECT MAX(seq) FROM tombstones WHERE origin = ?)`,
      )
      .get(origin, origin)?.top ?? 0
  );
}

export function cursor(db: Db, peer: string, origin: string): number {
  return (
    db
      .prepare<[string, string], { max_seq: number }>(
        'SELECT max_seq FROM sync_state WHERE peer = ? AND origin = ?',
      )
      .get(peer, origin)?.max_seq ?? 0
  );
}

export function setCursor(db: Db, peer: string, origin: string, value: number): void {
  db.prepare(
    `INSERT INTO sync_state(peer, origin, max_seq) VALUES (?, ?, ?)
     ON CONFLICT(peer, origin) DO UPDATE SET max_seq = MAX(max_seq, excluded.max_seq)`,
  ).run(peer, origin, value);
}

export function touch(db: Db, peer: string, origin: string, when: number): void {
  db.prepare(
    `INSERT INTO sync_state(peer, origin, max_seq, last_sync) VALUES (?, ?, 0, ?)
     ON CONFLICT(peer, origin) DO UPDATE SET last_sync = excluded.last_sync`,
  ).run(peer, origin, when);
}

/** `deleted_by` of a /forget tombstone: the one kind that deletes other machines' records everywhere. */
export function forgetMarker(me: string): string {
  return `forget:${me}`;
}

/**
 * Tombstones to propagate, after `afterRowid`: this machine's own series deleted here (clear,
 * forget) and any record deleted here by /forget. Clearing the local copy of other machines'
 * history (`/clear history --all`) stays local.
 */
export function ownTombstonesAfter(
  db: Db,
  me: string,
  afterRowid: number,
): { rowid: number; origin: string; seq: number }[] {
  return db
    .prepare<{ me: string; forget: string; after: number }, { rowid: number; origin: string; seq: number }>(
      `SELECT rowid, origin, seq FROM tombstones
       WHERE rowid > @after AND (deleted_by = @forget OR (origin = @me AND deleted_by = @me))
       ORDER BY rowid`,
    )
    .all({ me, forget: forgetMarker(me), after: afterRowid });
}

/** Applies peers' tombstones: the record goes, and insertRemote will never bring it back. */
export function applyTombstones(db: Db, tombstones: readonly TombstoneWire[], deletedBy: string): number {
  const add = db.prepare(
    'INSERT OR IGNORE INTO tombstones(origin, seq, deleted_at, deleted_by) VALUES (?, ?, ?, ?)',
  );
  const remove = db.prepare('DELETE FROM commands WHERE origin = ? AND seq = ?');
  let removed = 0;
  const now = Date.now();
  for (const t of tombstones) {
    add.run(t.origin, t.seq, now, deletedBy);
    removed += remove.run(t.origin, t.seq).changes;
  }
  return removed;
}

/** Per peer: own records not yet handed to it (lag) and when a batch to it was last PUBACKed. */
export function peerSyncStatus(
  db: Db,
  me: string,
  peers: readonly string[],
): { peer: string; lag: number; lastSync: number | null }[] {
  const top = ownMaxSeq(db, me);
  const row = db.prepare<[string, string], { max_seq: number; last_sync: number | null }>(
    'SELECT max_seq, last_sync FROM sync_state WHERE peer = ? AND origin = ?',
  );
  return peers.map((peer) => {
    const r = row.get(peer, me);
    return { peer, lag: Math.max(0, top - (r?.max_seq ?? 0)), lastSync: r?.last_sync ?? null };
  });
}
