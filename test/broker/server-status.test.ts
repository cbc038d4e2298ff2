import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestBroker } from '../helpers/broker.ts';
import { waitFor } from '../helpers/tmp.ts';

test('broker status lists queued messages only for machines that are offline', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha', 'laptop'] });
  const status = () => broker.running!.status();
  const laptop = await broker.connect('laptop', { clean: false });
  let received = 0;
  // the laptop takes the first message and never acknowledges it (MQTT.js then holds the second):
  // both stay in sessions.db while the laptop is connected
  laptop.handleMessage = () => {
    received++;
  };
  await new Promise<void>((resolve, reject) =>
    laptop.subscribe('isaac/laptop/msg', { qos: 1 }, (err) => (err ? reject(err) : resolve())),
  );
  const alpha = await broker.connect('alpha');
  for (const text of ['one', 'two']) await alpha.publishAsync('isaac/laptop/msg', text, { qos: 1 });
  await waitFor(() => received === 1, 'laptop received the first');
  assert.ok(status().connected.includes('laptop'));
  assert.equal(status().queueDepth.laptop, undefined, JSON.stringify(status().queueDepth));

  laptop.end(true);
  await waitFor(() => !status().connected.includes('laptop'), 'laptop gone');
  await waitFor(
    () => status().queueDepth.laptop === 2,
    'both unacknowledged messages queued for the offline laptop',
  );
});
