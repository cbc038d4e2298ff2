import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../../../node/core/store/store.ts';
import { startTestBroker, type TestBroker } from '../../helpers/broker.ts';
import { makeKeys } from '../../helpers/bus-nodes.ts';
import { startSyncNode } from '../../helpers/sync-node.ts';
import { waitFor } from '../../helpers/tmp.ts';

function dump(store: Store): string[] {
  return store.db
    .prepare<[], { origin: string; seq: number; command: string }>(
      'SELECT origin, seq, command FROM commands ORDER BY origin, seq',
    )
    .all()
    .map((r) => `${r.origin}#${r.seq} ${r.command}`);
}

test('isaac-broker SIGKILLed in the middle of a 10,000-record catch-up: after restart, same rows, none lost or doubled', async (t) => {
  const first = await startTestBroker(t, { process: true, machines: ['alpha', 'beta'] });
  let broker: TestBroker = first;
  const login = (name: string) => () => ({ username: name, password: broker.token(name) });
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const members = [a, b];
  // Small batches so the catch-up is a few hundred publishes long and the kill lands inside it.
  const options = { maxPayloadBytes: 8 * 1024, pollMs: 100, rangeSlice: 3000 };
  const na = await startSyncNode(t, a, members, first.url, undefined, {
    ...options,
    connectOptions: login('alpha'),
  });
  await waitFor(() => na.session.state.connected, 'alpha connected', 20_000);
  na.sync.stop(); // alpha works alone; beta has never been told anything
  na.store.history.recordMany(
    Array.from({ length: 10_000 }, (_, i) => ({
      command: `build step ${i} --flag=${i % 17}`,
      exit: i % 11 === 0 ? 1 : 0,
    })),
  );
  na.sync.start();
  // beta exists on the broker with a session but has none of alpha's history yet. The broker is
  // SIGKILLed from inside beta's apply once 500 records are in, so the kill lands mid catch-up
  // however slowly this process is scheduled (a polling wait could wake only after the last batch).
  const nb = await startSyncNode(t, b, members, first.url, undefined, {
    ...options,
    connectOptions: login('beta'),
  });
  let atKill = -1;
  const apply = nb.sync.apply.bind(nb.sync);
  nb.sync.apply = (env) => {
    apply(env);
    if (atKill < 0 && nb.store.history.count() > 500) {
      atKill = nb.store.history.count();
      first.child?.kill('SIGKILL');
    }
  };
  await waitFor(() => atKill >= 0, 'catch-up under way', 60_000);
  await first.kill();
  assert.ok(atKill < 10_000, `the kill should land mid catch-up (beta had ${atKill})`);

  broker = await startTestBroker(t, {
    process: true,
    tcpPort: first.ports.tcp ?? 0,
    reuse: { dataDir: first.dataDir, networkKeys: first.networkKeys, secrets: first.secrets },
  });
  await waitFor(() => nb.store.history.count() === 10_000, 'beta holds all 10,000 after restart', 90_000);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(dump(nb.store), dump(na.store));
  assert.equal(new Set(dump(nb.store)).size, 10_000);
});
