import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientFor, createNetwork, startNodeProc, withStore } from '../helpers/node-procs.ts';
import { waitFor } from '../helpers/tmp.ts';

test('a message to a machine that joined but never started isaac-node waits at the broker and arrives on its first start', async (t) => {
  const net = await createNetwork(t, ['alpha', 'beta']);
  await startNodeProc(t, net.homes.alpha!);
  const alpha = await clientFor(t, net.homes.alpha!);
  await waitFor(
    () => withStore(net.homes.alpha!, (s) => s.machines.get('beta')?.box_pk != null),
    'alpha to learn beta from its roster entry',
  );
  await alpha.msg('beta', 'sent before beta ever started');
  await waitFor(
    () => withStore(net.homes.alpha!, (s) => s.outbox.count() === 0),
    'the broker to take the message',
  );

  await startNodeProc(t, net.homes.beta!);
  await waitFor(
    () =>
      withStore(net.homes.beta!, (s) =>
        s.messages.recent(10).some((m) => m.peer === 'alpha' && m.body === 'sent before beta ever started'),
      ),
    'the message at beta',
    20_000,
  );
  const count = withStore(net.homes.beta!, (s) => s.messages.count({ direction: 'in', peer: 'alpha' }));
  assert.equal(count, 1);
});
