import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientFor, createNetwork, startNodeProc, waitAllOnline, withStore } from '../helpers/node-procs.ts';
import { waitFor } from '../helpers/tmp.ts';

test('kill -9 of the sender with 500 envelopes in its outbox: after restart all are delivered, none twice', async (t) => {
  const net = await createNetwork(t, ['alpha', 'beta'], { process: true });
  const alphaHome = net.homes.alpha!;
  const betaHome = net.homes.beta!;
  const alpha = await startNodeProc(t, alphaHome);
  await startNodeProc(t, betaHome);
  await waitAllOnline([alphaHome, betaHome], ['alpha', 'beta']);
  const brokerPid = net.broker.child!.pid!;

  const client = await clientFor(t, alphaHome);
  // a first batch goes through normally; the rest is sent while the broker is frozen, so it is
  // published (some of it onto the socket) but never acknowledged
  const first: Promise<unknown>[] = [];
  for (let i = 0; i < 100; i++) first.push(client.msg('beta', `m${i}`));
  await Promise.all(first);
  process.kill(brokerPid, 'SIGSTOP');
  t.after(() => {
    try {
      process.kill(brokerPid, 'SIGCONT');
    } catch {}
  });
  const rest: Promise<unknown>[] = [];
  for (let i = 100; i < 600; i++) rest.push(client.msg('beta', `m${i}`));
  await Promise.all(rest);
  await alpha.kill('SIGKILL');
  const waiting = withStore(alphaHome, (s) => s.outbox.count());
  assert.ok(waiting >= 500, `at least the 500 unacknowledged envelopes are in the outbox (found ${waiting})`);
  process.kill(brokerPid, 'SIGCONT');

  await startNodeProc(t, alphaHome);
  await waitFor(
    () => withStore(betaHome, (s) => s.messages.count({ direction: 'in', kind: 'msg' }) >= 600),
    'all 600 delivered',
    30_000,
  );
  await waitFor(() => withStore(alphaHome, (s) => s.outbox.count() === 0), 'outbox drained');
  await new Promise((r) => setTimeout(r, 500));
  withStore(betaHome, (s) => {
    const bodies = (
      s.db.prepare("SELECT body FROM messages WHERE direction = 'in' AND kind = 'msg'").all() as {
        body: string;
      }[]
    ).map((b) => b.body);
    assert.equal(bodies.length, 600);
    assert.deepEqual(new Set(bodies), new Set(Array.from({ length: 600 }, (_, i) => `m${i}`)));
  });
});
