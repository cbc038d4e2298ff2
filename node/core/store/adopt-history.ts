import type { Store } from './store.ts';

/**
 * First-day history: what was recorded here before this machine joined or created a network
 * carries the name it had then (the host name, or an earlier machine.name). Joining makes those
 * records part of this machine's series under its network name, in their order, so sync sends
 * them to the other machines. Records of known members (a roster with keys) are theirs and stay.
 *
 * Idempotent, like a migration: once adopted nothing else is left, and a second run changes
 * nothing. Returns how many records were adopted.
 */
export function adoptEarlierHistory(store: Store, name: string): number {
  const db = store.db;
  return db
    .transaction(() => {
      const origins = db
        .prepare<{ name: string }, { origin: string }>(
          `SELECT origin FROM commands
           WHERE origin <> @name AND origin NOT IN (SELECT name FROM machines WHERE box_pk IS NOT NULL)
           GROUP BY origin ORDER BY MIN(ts), origin`,
        )
        .all({ name })
        .map((r) => r.origin);
      if (origins.length === 0) return 0;
      // tombstoned seqs stay taken (HistoryRepo's rule), so adopted records follow them
      let next = db
        .prepare<{ name: string }, { next: number }>(
          `SELECT MAX(COALESCE((SELECT MAX(seq) FROM commands WHERE origin = @name), 0),
                      COALESCE((SELECT MAX(seq) FROM tombstones WHERE origin = @name), 0)) + 1 AS next`,
        )
        .get({ name })!.next;
      const ids = db
        .prepare<[string], number>('SELECT id FROM commands WHERE origin = ? ORDER BY seq')
        .pluck();
      const move = db.prepare(
        'UPDATE commands SET origin = @name, machine_id = @name, seq = @seq, synced = 0 WHERE id = @id',
      );
      let adopted = 0;
      for (const origin of origins) {
        for (const id of ids.all(origin)) {
          move.run({ name, seq: next++, id });
          adopted++;
        }
        // never sent anywhere: a deletion of one of its records has nobody to tell
        db.prepare('DELETE FROM tombstones WHERE origin = ?').run(origin);
        db.prepare('DELETE FROM sync_state WHERE origin = ?').run(origin);
      }
      return adopted;
    })
    .immediate();
}
