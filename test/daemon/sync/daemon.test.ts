import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchHistory } from '../../../node/core/search/search.ts';
import { makeKeys, seedRoster, startPlainBroker, startTestNode } from '../../helpers/bus-nodes.ts';
import { waitFor } from '../../helpers/tmp.ts';

test('isaac-node with history sync: catch-up on start, live within a second, a new member catches up', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const na = await startTestNode(t, a, [a, b], [broker.url]);
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

  const c = makeKeys('gamma');
  const nc = await startTestNode(t, c, [a, b, c], [broker.url]);
  // As when gamma's signed roster entry arrives: the intake writes the row, then tells the extensions.
  for (const n of [na, nb]) {
    seedRoster(n.store, [c]);
    n.extensions.memberAdded('gamma');
  }
  await waitFor(() => nc.store.history.count() === 2, 'gamma holds both records');
  const report = await nc.sync.syncNow({ quietMs: 300, timeoutMs: 10_000 });
  assert.equal(report.settled, true);
});
