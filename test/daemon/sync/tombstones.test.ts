import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../../../node/core/store/store.ts';
import { forgetMarker } from '../../../node/core/store/sync-state.ts';
import { makeKeys, startPlainBroker } from '../../helpers/bus-nodes.ts';
import { startSyncNode } from '../../helpers/sync-node.ts';
import { waitFor } from '../../helpers/tmp.ts';

function rows(store: Store, origin: string): string[] {
  return store.db
    .prepare<[string], { seq: number; command: string }>(
      'SELECT seq, command FROM commands WHERE origin = ? ORDER BY seq',
    )
    .all(origin)
    .map((r) => `${origin}#${r.seq} ${r.command}`);
}

function forgetAll(store: Store, origin: string, me: string): number {
  const ids = store.db
    .prepare<[string], { id: number }>('SELECT id FROM commands WHERE origin = ?')
    .all(origin)
    .map((r) => r.id);
  return store.history.forget(ids, forgetMarker(me)).length;
}

test('tombstones: a member cannot delete another machine’s records; an admin can, except what others ran there', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const g = makeKeys('gamma');
  const all = [a, b, g];
  const na = await startSyncNode(t, a, all, broker.url);
  const nb = await startSyncNode(t, b, all, broker.url);
  const ng = await startSyncNode(t, g, all, broker.url);
  await waitFor(
    () => na.session.state.connected && nb.session.state.connected && ng.session.state.connected,
    'all connected',
  );
  nb.store.history.record({ command: 'make backup', exit: 0 });
  nb.store.history.record({ command: 'df -h', exit: 0, source: 'remote:gamma' });
  await waitFor(
    () => na.store.history.count() === 2 && ng.store.history.count() === 2,
    'alpha and gamma hold beta’s two records',
  );
  const before = rows(nb.store, 'beta');

  // alpha (a plain member) forgets beta's records: its tombstones for origin beta go to beta and gamma
  assert.equal(forgetAll(na.store, 'beta', 'alpha'), 2);
  await waitFor(
    () =>
      (nb.sync.peerCounts().alpha?.refused ?? 0) === 2 && (ng.sync.peerCounts().alpha?.refused ?? 0) === 2,
    'beta and gamma refused and counted both tombstones',
  );
  assert.deepEqual(rows(nb.store, 'beta'), before, 'beta’s own rows stay');
  assert.deepEqual(rows(ng.store, 'beta'), before, 'gamma’s copy of beta’s rows stays');
  assert.ok(
    nb.logs.some((l) =>
      /refused \(foreign-tombstone\): 2 tombstone\(s\): alpha tried to delete records it may not delete \(2 of beta\)/.test(
        l,
      ),
    ),
    nb.logs.join('\n'),
  );
  // a refused tombstone is not kept either: nothing stops beta's records from syncing later
  assert.deepEqual(nb.store.db.prepare('SELECT origin, seq FROM tombstones').all(), []);

  // alpha becomes an admin in gamma's verified roster: its tombstone for beta's own shell record
  // is obeyed there, the one for a command gamma ran on beta (source remote:gamma) is not
  ng.store.machines.applyRoster({
    name: 'alpha',
    signPk: a.sign.publicKey,
    boxPk: a.box.publicKey,
    added: 1,
    admin: true,
  });
  // gamma asks alpha from zero (`/sync force`): alpha re-sends the tombstones it made
  ng.sync.requestCatchUp(['alpha'], { force: true });
  await waitFor(() => rows(ng.store, 'beta').length === 1, 'gamma applied the admin’s tombstone');
  assert.deepEqual(rows(ng.store, 'beta'), ['beta#2 df -h']);
  await waitFor(
    () => (ng.sync.peerCounts().alpha?.refused ?? 0) >= 3,
    'the remote-run record’s tombstone refused',
  );
  assert.deepEqual(rows(nb.store, 'beta'), before, 'beta (alpha is no admin there) keeps everything');
});
