import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sealedRow } from '../../../node/core/store/outbox.ts';
import { HistorySync } from '../../../node/daemon/sync/engine.ts';
import { makeKeys, memberStore } from '../../helpers/bus-nodes.ts';
import { captureLogger } from '../../helpers/log-capture.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('a peer that cannot be sealed to does not hold up live sync to the others', (t) => {
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const { store, codec } = memberStore(tempDir(t), a, [a, b]);
  t.after(() => store.close());
  const { logger, lines: logs } = captureLogger();
  const sync = new HistorySync(
    store,
    {
      me: 'alpha',
      peers: () => ['ghost', 'beta'],
      enqueue: (type, to, body, exp) => {
        const sealed = codec.seal({ type, to, body, exp });
        store.outbox.add(sealedRow(sealed, type, to));
        return sealed.id;
      },
    },
    { log: logger },
  );
  store.history.record({ command: 'uptime' });
  store.history.record({ command: 'df -h' });
  assert.equal(sync.pushNew(), 2);
  assert.deepEqual(store.outbox.countByPeer(), { beta: 1 });
  assert.match(logs.join('\n'), /history sync to ghost: ghost is not a member/);
  sync.requestCatchUp();
  assert.deepEqual(store.outbox.countByPeer(), { beta: 2 });
  assert.equal(sync.pushNew(), 0, 'nothing new for beta; ghost is retried and fails again');
});
