import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { searchHistory } from '../../../node/core/search/search.ts';
import type { Store } from '../../../node/core/store/store.ts';
import { NodeDaemon } from '../../../node/daemon/daemon.ts';
import { historyExtension } from '../../../node/daemon/sync/wiring.ts';
import {
  type MachineKeys,
  makeKeys,
  memberStore,
  seedRoster,
  startPlainBroker,
} from '../../helpers/bus-nodes.ts';
import { tempDir, waitFor } from '../../helpers/tmp.ts';

type Extension = ReturnType<typeof historyExtension>;

async function startNode(
  t: Pick<TestContext, 'after'>,
  keys: MachineKeys,
  members: readonly MachineKeys[],
  url: string,
): Promise<{ store: Store; daemon: NodeDaemon; history: Extension }> {
  const { store, codec } = memberStore(tempDir(t), keys, members);
  const daemon = new NodeDaemon({
    store,
    codec,
    urls: [url],
    connectOptions: () => ({ username: keys.name, password: 'test' }),
    classify: () => ({ tier: 1, reason: 'test' }),
    version: 'test',
    log: () => {},
  });
  const history = historyExtension(daemon, store, () => {});
  daemon.use(history);
  daemon.start();
  t.after(async () => {
    await daemon.stop();
    store.close();
  });
  return { store, daemon, history };
}

test('isaac-node with history sync: catch-up on start, live within a second, a new member catches up', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const na = await startNode(t, a, [a, b], broker.url);
  na.store.history.record({ command: 'git status', exit: 0, cwd: '/srv' });
  const nb = await startNode(t, b, [a, b], broker.url);
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
  const nc = await startNode(t, c, [a, b, c], broker.url);
  // A real entry arrives retained on isaac/roster/gamma and the daemon calls onMemberAdded.
  for (const n of [na, nb]) {
    seedRoster(n.store, [c]);
    n.history.onMemberAdded('gamma');
  }
  await waitFor(() => nc.store.history.count() === 2, 'gamma holds both records');
  const report = await nc.history.sync.syncNow({ quietMs: 300, timeoutMs: 10_000 });
  assert.equal(report.settled, true);
});
