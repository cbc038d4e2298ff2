import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { checkPublish } from '../../broker/acl.ts';
import { makeKeys, startPlainBroker, startTestNode } from '../helpers/bus-nodes.ts';
import { waitFor } from '../helpers/tmp.ts';

type Config = Record<string, unknown> & { device: Record<string, unknown> };

test('Home Assistant discovery: retained configs per HA schema, re-sent when HA comes online, allowed by the broker ACL', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const node = await startTestNode(t, a, [a], [broker.url], {
    version: '9.9.9',
    config: { 'ha.discovery': 'on' },
  });
  await waitFor(() => node.daemon.session.state.connected, 'node connected');
  await new Promise((r) => setTimeout(r, 200));

  // Home Assistant's side: a plain MQTT subscription, arriving after the node published
  const ha = mqtt.connect(broker.url, { clientId: 'homeassistant', reconnectPeriod: 0 });
  t.after(() => ha.endAsync(true));
  const got = new Map<string, { payload: string; retain: boolean }>();
  ha.on('message', (topic, payload, packet) =>
    got.set(topic, { payload: payload.toString(), retain: packet.retain }),
  );
  await new Promise<void>((r) => ha.once('connect', () => r()));
  await ha.subscribeAsync(['homeassistant/+/alpha/+/config', 'isaac/alpha/status'], { qos: 1 });
  await waitFor(() => got.size === 5, 'four configs and the status');

  const cfg = (topic: string): Config => {
    const entry = got.get(topic);
    assert.ok(entry, `${topic} published`);
    assert.equal(entry.retain, true, `${topic} is retained`);
    return JSON.parse(entry.payload) as Config;
  };
  const device = {
    identifiers: ['isaac_alpha'],
    name: 'alpha',
    manufacturer: 'Isaac',
    model: 'isaac-node',
    sw_version: '9.9.9',
  };
  const online = cfg('homeassistant/binary_sensor/alpha/online/config');
  assert.equal(online.unique_id, 'isaac_alpha_online');
  assert.equal(online.name, 'Online');
  assert.equal(online.state_topic, 'isaac/alpha/status');
  assert.equal(online.device_class, 'connectivity');
  assert.equal(online.value_template, '{{ value_json.state }}');
  assert.equal(online.payload_on, 'online');
  assert.equal(online.payload_off, 'offline');
  assert.deepEqual(online.device, device);
  for (const [object, field, unit] of [
    ['last_command', 'last_command', undefined],
    ['commands_today', 'commands_today', 'commands'],
    ['outbox', 'outbox', 'messages'],
  ] as const) {
    const c = cfg(`homeassistant/sensor/alpha/${object}/config`);
    assert.equal(c.unique_id, `isaac_alpha_${object}`);
    assert.equal(c.state_topic, 'isaac/alpha/status');
    assert.match(String(c.value_template), new RegExp(`value_json\\.${field}`));
    assert.equal(c.availability_topic, 'isaac/alpha/status');
    assert.equal(c.availability_template, '{{ value_json.state }}');
    assert.equal(c.payload_available, 'online');
    assert.equal(c.payload_not_available, 'offline');
    assert.equal(c.unit_of_measurement, unit);
    assert.deepEqual(c.device, device);
  }
  assert.equal(cfg('homeassistant/sensor/alpha/last_command/config').device_class, 'timestamp');
  // the status topic carries every field the templates read
  const status = JSON.parse(got.get('isaac/alpha/status')!.payload) as Record<string, unknown>;
  assert.equal(status.state, 'online');
  for (const field of ['last_command', 'commands_today', 'outbox'])
    assert.ok(field in status, `status has ${field}`);
  // the broker ACL lets alpha publish exactly these, and not another machine's
  for (const topic of got.keys())
    if (topic.startsWith('homeassistant/')) {
      assert.equal(checkPublish('alpha', { topic, retain: true }), undefined, topic);
      assert.equal(checkPublish('beta', { topic, retain: true }), 'publish-denied', topic);
    }

  // HA restarts: it announces itself online and gets the configs again (live, not retained copies)
  const live: string[] = [];
  ha.on(
    'message',
    (topic, _p, packet) =>
      void (!packet.retain && topic.startsWith('homeassistant/sensor') && live.push(topic)),
  );
  await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await waitFor(() => live.length === 3, 'configs re-published after homeassistant/status online');
});
