import type { AiRecordWire, TombstoneWire } from '../../../schemas/messages.ts';
import type { AiRecord } from './ai-history.ts';
import type { Db } from './db.ts';
import { forgetMarker } from './sync-state.ts';

/**
 * SQL for syncing the AI series (`ai_history` + `ai_tombstones`), the counterpart of
 * sync-state.ts for commands. The per-peer cursors live in `sync_state` under two keys of
 * their own: `(peer, '*ai')` the highest own AI seq handed to the outbox for that peer,
 * `(peer, '*ai-tombstones')` the AI tombstone rowid cursor.
 */
export const AI_CURSOR = '*ai';
export const AI_TOMBSTONE_CURSOR = '*ai-tombstones';

/** `{origin: highest AI seq held without a gap}`, tombstones counting as held. */
export function heldAiMap(db: Db): Record<string, number> {
  const rows = db
    .prepare<[], { origin: string; n: number; top: number }>(
      `SELECT origin, SUM(n) AS n, MAX(top) AS top FROM (
         SELECT origin, COUNT(*) AS n, MAX(seq) AS top FROM ai_history GROUP BY origin
         UNION ALL SELECT origin, COUNT(*), MAX(seq) FROM ai_tombstones GROUP BY origin
       ) GROUP BY origin`,
    )
    .all();
  // the first seq held whose successor is not: the top of the run that starts at 1
  const firstGap = db.prepare<{ origin: string }, { seq: number }>(
    `SELECT h.seq FROM (SELECT seq FROM ai_history WHERE origin = @origin
                        UNION SELECT seq FROM ai_tombstones WHERE origin = @origin) h
     WHERE NOT EXISTS (SELECT 1 FROM ai_history WHERE origin = @origin AND seq = h.seq + 1)
       AND NOT EXISTS (SELECT 1 FROM ai_tombstones WHERE origin = @origin AND seq = h.seq + 1)
     ORDER BY h.seq LIMIT 1`,
  );
  const hasOne = db.prepare<{ origin: string }, { one: number }>(
    `SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM ai_history WHERE origin = @origin AND seq = 1)
        OR EXISTS (SELECT 1 FROM ai_tombstones WHERE origin = @origin AND seq = 1)`,
  );
  const map: Record<string, number> = {};
  for (const r of rows) {
    if (r.n === r.top) map[r.origin] = r.top;
    else {
      const at = { origin: r.origin };
      map[r.origin] = hasOne.get(at) ? (firstGap.get(at)?.seq ?? 0) : 0;
    }
  }
  return map;
}

/** Records and tombstones of one AI series in [from, to], as they travel (text capped at `maxText`). */
export function aiSeriesRange(
  db: Db,
  origin: string,
  from: number,
  to: number,
  maxText: number,
): { records: AiRecordWire[]; tombstones: TombstoneWire[] } {
  const rows = db
    .prepare<[string, number, number], Omit<AiRecord, 'id' | 'origin'>>(
      `SELECT seq, ts, kind, provider, model, question, answer, command, error FROM ai_history
       WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
    )
    .all(origin, from, to);
  const cap = (text: string) => (text.length > maxText ? `${text.slice(0, maxText - 1)}…` : text);
  const records = rows.map((r) => {
    const wire: AiRecordWire = { origin, seq: r.seq, ts: r.ts, kind: r.kind, question: cap(r.question) };
    if (r.answer !== null) wire.answer = cap(r.answer);
    if (r.command !== null) wire.command = r.command;
    if (r.provider !== null) wire.provider = r.provider;
    if (r.model !== null) wire.model = r.model;
    if (r.error !== null) wire.error = r.error.slice(0, 4096);
    return wire;
  });
  const tombstones = db
    .prepare<[string, number, number], TombstoneWire>(
      'SELECT origin, seq FROM ai_tombstones WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq',
    )
    .all(origin, from, to);
  return { records, tombstones };
}

export function ownAiMaxSeq(db: Db, origin: string): number {
  return (
    db
      .prepare<[string, string], { top: number | null }>(
        `SELECT MAX(top) AS top FROM (SELECT MAX(seq) AS top FROM ai_history WHERE origin = ?
                                      UNION ALL SELECT MAX(seq) FROM ai_tombstones WHERE origin = ?)`,
      )
      .get(origin, origin)?.top ?? 0
  );
}

/** AI tombstones to propagate after `afterRowid`: own series deleted here, and /forget --ai of any. */
export function ownAiTombstonesAfter(
  db: Db,
  me: string,
  afterRowid: number,
): { rowid: number; origin: string; seq: number }[] {
  return db
    .prepare<{ me: string; forget: string; after: number }, { rowid: number; origin: string; seq: number }>(
      `SELECT rowid, origin, seq FROM ai_tombstones
       WHERE rowid > @after AND (deleted_by = @forget OR (origin = @me AND deleted_by = @me))
       ORDER BY rowid`,
    )
    .all({ me, forget: forgetMarker(me), after: afterRowid });
}

/** Applies peers' AI tombstones: the record goes, and insertRemote never brings it back. */
export function applyAiTombstones(db: Db, tombstones: readonly TombstoneWire[], deletedBy: string): number {
  const add = db.prepare(
    'INSERT OR IGNORE INTO ai_tombstones(origin, seq, deleted_at, deleted_by) VALUES (?, ?, ?, ?)',
  );
  const remove = db.prepare('DELETE FROM ai_history WHERE origin = ? AND seq = ?');
  let removed = 0;
  const now = Date.now();
  for (const t of tombstones) {
    add.run(t.origin, t.seq, now, deletedBy);
    removed += remove.run(t.origin, t.seq).changes;
  }
  return removed;
}
