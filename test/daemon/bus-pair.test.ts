import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectNode, type ExecEvent } from '../../node/ipc/client.ts';
import { makeKeys, startPlainBroker, startTestNode } from '../helpers/bus-nodes.ts';
import { waitFor } from '../helpers/tmp.ts';

test('two nodes: !exec streams output and exit code, !msg arrives once, !status pings', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const na = await startTestNode(t, a, [a, b], [broker.url]);
  const nb = await startTestNode(t, b, [a, b], [broker.url]);
  await waitFor(() => na.store.machines.get('beta')?.status === 'online', 'alpha sees beta online');

  const client = await connectNode(na.home);
  assert.ok(client);
  t.after(() => client.close());
  const events: ExecEvent[] = [];
  const handle = client.exec({ targets: 'beta', cmd: 'echo hello from $(whoami); exit 3' }, (e) =>
    events.push(e),
  );
  await handle.done;
  const result = events.find((e) => e.event === 'result');
  assert.ok(result && result.event === 'result');
  assert.equal(result.exit, 3);
  const out = events
    .filter((e) => e.event === 'chunk')
    .map((e) => (e.event === 'chunk' ? e.data : ''))
    .join('');
  assert.match(out, /hello from/);
  const recorded = nb.store.db
    .prepare("SELECT command, source, exit FROM commands WHERE source = 'remote:alpha'")
    .all();
  assert.deepEqual(recorded, [
    { command: 'echo hello from $(whoami); exit 3', source: 'remote:alpha', exit: 3 },
  ]);

  const clientB = await connectNode(nb.home);
  assert.ok(clientB);
  t.after(() => clientB.close());
  const got: string[] = [];
  clientB.onNotification((n) => got.push(`${n.kind}:${n.from}:${n.text}`));
  const sent = await client.msg('beta', 'lunch?');
  assert.equal(sent.online, true);
  await waitFor(() => got.length === 1, 'beta notified');
  assert.deepEqual(got, ['msg:alpha:lunch?']);
  assert.equal(nb.store.messages.count({ direction: 'in', kind: 'msg' }), 1);

  const status = await client.status('beta');
  assert.equal(status.state, 'online');
  assert.ok(typeof status.rttMs === 'number' && status.rttMs >= 0);
  assert.equal(na.store.outbox.count(), 0);
});
