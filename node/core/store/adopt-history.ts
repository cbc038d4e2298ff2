import type { Db } from './db.ts';
import type { Store } from './store.ts';

/**
 * First-day history: what was recorded here before this machine joined or created a network
 * carries the name it had then (the host name, or an earlier machine.name). Joining makes those
 * records part of this machine's series under its network name, in their order, so sync sends
 * them to the other machines. Records of known members (a roster with keys) are theirs and stay.
 * The same goes for the AI history (questions asked before the network), in its own series.
 *
 * Idempotent, like a migration: once adopted nothing else is left, and a second run changes
 * nothing. Returns how many command records were adopted.
 */
export function adoptEarlierHistory(store: Store, name: string): number {
  const db = store.db;
  return db
    .transaction(() => {
      const adopted = adoptSeries(db, name, COMMAND_SERIES);
      adoptSeries(db, name, AI_SERIES);
      return adopted;
    })
    .immediate();
}

interface SeriesTables {
  records: string;
  tombstones: string;
  /** what else moves with the origin */
  set: string;
}

const COMMAND_SERIES: SeriesTables = {
  records: 'commands',
  tombstones: 'tombstones',
  set: ', machine_id = @name, synced = 0',
};
const AI_SERIES: SeriesTables = { records: 'ai_history', tombstones: 'ai_tombstones', set: '' };

function adoptSeries(db: Db, name: string, t: SeriesTables): number {
  const origins = db
    .prepare<{ name: string }, { origin: string }>(
      `SELECT origin FROM ${t.records}
       WHERE origin <> @name AND origin NOT IN (SELECT name FROM machines WHERE box_pk IS NOT NULL)
       GROUP BY origin ORDER BY MIN(ts), origin`,
    )
    .all({ name })
    .map((r) => r.origin);
  if (origins.length === 0) return 0;
  // tombstoned seqs stay taken (HistoryRepo's rule), so adopted records follow them
  let next = db
    .prepare<{ name: string }, { next: number }>(
      `SELECT MAX(COALESCE((SELECT MAX(seq) FROM ${t.records} WHERE origin = @name), 0),
                  COALESCE((SELECT MAX(seq) FROM ${t.tombstones} WHERE origin = @name), 0)) + 1 AS next`,
    )
    .get({ name })!.next;
  const ids = db
    .prepare<[string], number>(`SELECT id FROM ${t.records} WHERE origin = ? ORDER BY seq`)
    .pluck();
  const move = db.prepare(`UPDATE ${t.records} SET origin = @name, seq = @seq${t.set} WHERE id = @id`);
  let adopted = 0;
  for (const origin of origins) {
    for (const id of ids.all(origin)) {
      move.run({ name, seq: next++, id });
      adopted++;
    }
    // never sent anywhere: a deletion of one of its records has nobody to tell
    db.prepare(`DELETE FROM ${t.tombstones} WHERE origin = ?`).run(origin);
    db.prepare('DELETE FROM sync_state WHERE origin = ?').run(origin);
  }
  return adopted;
}
