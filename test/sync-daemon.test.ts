import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchHistory } from '../node/search/search.ts';
import { makeKeys, seedRoster, startPlainBroker, startTestNode } from './helpers/bus-nodes.ts';
import { waitFor } from './helpers/tmp.ts';

test('isaac-node syncs history (skipped while node/daemon does not wire node/sync in)', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const na = await startTestNode(t, a, [a, b], [broker.url]);
  if (!('history' in na.daemon)) {
    t.skip('NodeDaemon has no history sync wired in yet');
    return;
  }
  na.store.history.record({ command: 'git status', exit: 0, cwd: '/srv' });
  const nb = await startTestNode(t, b, [a, b], [broker.url]);
  await waitFor(() => nb.store.history.count() === 1, 'beta caught up on start');
  const started = Date.now();
  nb.store.history.record({ command: 'make deploy', exit: 2 });
  await waitFor(() => searchHistory(na.store, { text: 'deploy' }).length === 1, 'live: searchable on alpha');
  assert.ok(Date.now() - started < 1000, `live sync took ${Date.now() - started} ms`);
  assert.deepEqual(
    searchHistory(na.store, { text: 'deploy' }).map((h) => [h.origin, h.command, h.exit]),
    [['beta', 'make deploy', 2]],
  );

  // A machine that joins later: the members see its roster entry and it catches up.
  const c = makeKeys('gamma');
  const nc = await startTestNode(t, c, [a, b, c], [broker.url]);
  seedRoster(na.store, [c]);
  seedRoster(nb.store, [c]);
  // (a real roster entry arrives retained on isaac/roster/gamma; here the members are told directly)
  (na.daemon as unknown as { history: { requestCatchUp(p: string[]): void } }).history.requestCatchUp([
    'gamma',
  ]);
  (nb.daemon as unknown as { history: { requestCatchUp(p: string[]): void } }).history.requestCatchUp([
    'gamma',
  ]);
  await waitFor(() => nc.store.history.count() === 2, 'gamma holds both records');
});
