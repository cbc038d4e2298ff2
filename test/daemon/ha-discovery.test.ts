import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { checkPublish } from '../../broker/acl.ts';
import { discoveryMessages } from '../../node/daemon/ha/discovery.ts';
import { revokeMachine } from '../../node/shell/identity/membership.ts';
import { runIsaac } from '../helpers/isaac.ts';
import { createNetwork, startNodeProc, waitAllOnline, withStore } from '../helpers/node-procs.ts';
import { waitFor } from '../helpers/tmp.ts';

/**
 * The options Home Assistant documents for MQTT discovery of the two components Isaac uses
 * (home-assistant.io/integrations/sensor.mqtt and binary_sensor.mqtt, "Configuration Variables";
 * `object_id` is deprecated in favour of `default_entity_id`, so it must not appear).
 */
const COMMON = [
  'availability',
  'availability_mode',
  'availability_template',
  'availability_topic',
  'default_entity_id',
  'device',
  'device_class',
  'enabled_by_default',
  'encoding',
  'entity_category',
  'entity_picture',
  'expire_after',
  'force_update',
  'icon',
  'json_attributes_template',
  'json_attributes_topic',
  'name',
  'origin',
  'payload_available',
  'payload_not_available',
  'platform',
  'qos',
  'state_topic',
  'unique_id',
  'value_template',
];
const OPTIONS: Record<string, Set<string>> = {
  sensor: new Set([
    ...COMMON,
    'last_reset_value_template',
    'options',
    'state_class',
    'suggested_display_precision',
    'unit_of_measurement',
  ]),
  binary_sensor: new Set([...COMMON, 'off_delay', 'payload_off', 'payload_on']),
};
const DEVICE_CLASSES: Record<string, Set<string>> = {
  sensor: new Set(['timestamp', 'duration', 'data_size', 'enum']),
  binary_sensor: new Set(['connectivity', 'running', 'problem']),
};
const STATE_CLASSES = new Set(['measurement', 'measurement_angle', 'total', 'total_increasing']);
const ID = /^[a-zA-Z0-9_-]+$/;

type Entity = Record<string, unknown>;

/** Checks one retained discovery message against HA's documented schema; returns the parsed config. */
function checkEntity(topic: string, payload: string, status: Record<string, unknown>): Entity {
  const parts = topic.split('/');
  assert.equal(parts.length, 5, `${topic}: <prefix>/<component>/<node_id>/<object_id>/config`);
  const [prefix, component, nodeId, objectId, last] = parts as [string, string, string, string, string];
  assert.equal(prefix, 'homeassistant');
  assert.equal(last, 'config');
  assert.match(nodeId, ID);
  assert.match(objectId, ID);
  const allowed = OPTIONS[component];
  assert.ok(allowed, `${topic}: a component HA knows`);
  const c = JSON.parse(payload) as Entity;
  for (const key of Object.keys(c)) assert.ok(allowed.has(key), `${topic}: ${key} is a documented option`);
  assert.equal(typeof c.unique_id, 'string');
  assert.equal(typeof c.name, 'string');
  assert.equal(c.default_entity_id, `${component}.${c.unique_id}`, `${topic}: default_entity_id`);
  const device = c.device as Entity;
  assert.ok(Array.isArray(device.identifiers) && device.identifiers.length > 0, 'device identifiers');
  assert.equal(typeof device.name, 'string');
  assert.equal(typeof (c.origin as Entity).name, 'string', 'origin.name is required with origin');
  assert.equal(c.state_topic, `isaac/${nodeId}/status`);
  if (c.device_class !== undefined)
    assert.ok(DEVICE_CLASSES[component]?.has(String(c.device_class)), `${topic}: device_class`);
  if (c.state_class !== undefined) {
    assert.ok(STATE_CLASSES.has(String(c.state_class)), `${topic}: state_class`);
    assert.notEqual(c.device_class, 'timestamp', 'a timestamp sensor has no state class');
  }
  if (c.entity_category !== undefined)
    assert.ok(['config', 'diagnostic'].includes(String(c.entity_category)));
  // availability: one topic with a template (never together with the `availability` list)
  if (c.availability_topic !== undefined) {
    assert.equal(
      c.availability,
      undefined,
      `${topic}: availability_topic and availability exclude each other`,
    );
    assert.equal(c.availability_topic, c.state_topic);
    assert.equal(c.availability_template, '{{ value_json.state }}');
    assert.deepEqual([c.payload_available, c.payload_not_available], ['online', 'offline']);
  }
  // every status field a template reads is in the status payload the machine publishes
  for (const [, used] of String(c.value_template).matchAll(/value_json\.(\w+)/g))
    assert.ok(used !== undefined && used in status, `${topic}: status has ${used}`);
  return c;
}

function observer(url: string, password: string, clientId: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId,
      username: 'homeassistant',
      password,
      clean: true,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** Retained (or live) messages on `homeassistant/#` and statuses, newest per topic. */
function watch(client: MqttClient): Map<string, { payload: string; retain: boolean }> {
  const seen = new Map<string, { payload: string; retain: boolean }>();
  client.on('message', (topic, payload, packet) =>
    seen.set(topic, { payload: payload.toString(), retain: packet.retain }),
  );
  return seen;
}

const configsOf = (seen: Map<string, { payload: string }>, machine: string) =>
  [...seen].filter(
    ([topic, m]) => topic.startsWith('homeassistant/') && topic.includes(`/${machine}/`) && m.payload !== '',
  );

test('Home Assistant lifecycle: on publishes at once, entities follow HA schema, birth re-sends, off and revoke remove them', async (t) => {
  const net = await createNetwork(t, ['alpha', 'beta']);
  const homes = { alpha: net.homes.alpha!, beta: net.homes.beta! };
  const nodes = { alpha: await startNodeProc(t, homes.alpha), beta: await startNodeProc(t, homes.beta) };
  await waitAllOnline(Object.values(homes), ['alpha', 'beta']);
  const password = 'ha-observer-password';
  net.broker.running?.state.addObserver('homeassistant', password);
  const ha = await observer(net.broker.url, password, 'ha-main');
  t.after(() => ha.endAsync(true));
  const seen = watch(ha);
  await ha.subscribeAsync(['homeassistant/#', 'isaac/+/status'], { qos: 1 });
  await waitFor(() => seen.has('isaac/alpha/status') && seen.has('isaac/beta/status'), 'statuses');
  assert.deepEqual(configsOf(seen, 'alpha'), [], 'discovery is off by default');

  // turned on in the shell, as a user does: the configs arrive without a reconnect or HA restart
  const asAlpha = {
    home: homes.alpha,
    userHome: homes.alpha,
    env: { ...process.env, ISAAC_HOME: homes.alpha },
  };
  const set = await runIsaac(asAlpha, ['-c', '/set config ha.discovery on']);
  assert.equal(set.status, 0, set.stderr);
  await waitFor(() => configsOf(seen, 'alpha').length === 4, 'the four configs after /set config', 20_000);
  const status = JSON.parse(seen.get('isaac/alpha/status')!.payload) as Record<string, unknown>;
  const entities = new Map<string, Entity>();
  for (const [topic, m] of configsOf(seen, 'alpha')) {
    assert.equal(seen.get(topic)?.retain, false, 'delivered live');
    entities.set(topic, checkEntity(topic, m.payload, status));
    assert.equal(checkPublish('alpha', { topic, retain: true }), undefined, topic);
    assert.equal(checkPublish('beta', { topic, retain: true }), 'publish-denied', topic);
  }
  assert.equal(new Set([...entities.values()].map((e) => e.unique_id)).size, 4, 'unique ids');
  assert.equal(
    entities.get('homeassistant/sensor/alpha/commands_today/config')?.state_class,
    'total_increasing',
  );
  assert.equal(entities.get('homeassistant/sensor/alpha/outbox/config')?.state_class, 'measurement');
  assert.equal(entities.get('homeassistant/sensor/alpha/last_command/config')?.device_class, 'timestamp');
  const online = entities.get('homeassistant/binary_sensor/alpha/online/config')!;
  assert.equal(online.device_class, 'connectivity');
  assert.equal(online.availability_topic, undefined, 'the online sensor reads offline itself');
  assert.deepEqual([online.payload_on, online.payload_off], ['online', 'offline']);
  // what HA finds retained when it starts later is the same
  const late = await observer(net.broker.url, password, 'ha-late');
  t.after(() => late.endAsync(true));
  const lateSeen = watch(late);
  await late.subscribeAsync('homeassistant/+/alpha/+/config', { qos: 1 });
  await waitFor(() => lateSeen.size === 4, 'retained configs');
  for (const [topic, m] of lateSeen) {
    assert.equal(m.retain, true);
    assert.deepEqual(JSON.parse(m.payload), entities.get(topic));
  }

  // HA restarts: its birth message brings the configs again
  const live: string[] = [];
  ha.on(
    'message',
    (topic, p) => void (topic.startsWith('homeassistant/sensor/alpha') && p.length && live.push(topic)),
  );
  await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
  await waitFor(() => live.length === 3, 'configs re-published after homeassistant/status online');

  // off: empty retained configs, so HA removes the entities and a later HA finds none
  const off = await runIsaac(asAlpha, ['-c', '/set config ha.discovery off']);
  assert.equal(off.status, 0, off.stderr);
  await waitFor(() => configsOf(seen, 'alpha').length === 0, 'empty configs after off', 20_000);
  for (const topic of entities.keys()) assert.equal(seen.get(topic)?.payload, '', `${topic} emptied`);
  const after = await observer(net.broker.url, password, 'ha-after');
  t.after(() => after.endAsync(true));
  const afterSeen = watch(after);
  await after.subscribeAsync(['homeassistant/#', 'isaac/+/status'], { qos: 1 });
  await waitFor(() => afterSeen.has('isaac/beta/status'), 'retained statuses');
  assert.deepEqual(configsOf(afterSeen, 'alpha'), [], 'no retained config of alpha left');

  // on again, then off while isaac-node is stopped: the next start removes them
  withStore(homes.alpha, (s) => s.config.set('ha.discovery', 'on'));
  await waitFor(() => configsOf(seen, 'alpha').length === 4, 'configs after on again', 20_000);
  await nodes.alpha.kill('SIGTERM');
  withStore(homes.alpha, (s) => s.config.set('ha.discovery', 'off'));
  nodes.alpha = await startNodeProc(t, homes.alpha);
  await waitFor(() => configsOf(seen, 'alpha').length === 0, 'configs removed by the next start', 20_000);

  // beta turns discovery on (any writer of its config), then is revoked: its status and entities go
  withStore(homes.beta, (s) => s.config.set('ha.discovery', 'on'));
  await waitFor(() => configsOf(seen, 'beta').length === 4, "beta's configs", 20_000);
  await revokeMachine(homes.alpha, 'beta');
  await waitFor(
    () => configsOf(seen, 'beta').length === 0 && seen.get('isaac/beta/status')?.payload === '',
    "beta's retained status and configs emptied",
  );
  const fresh = await observer(net.broker.url, password, 'ha-fresh');
  t.after(() => fresh.endAsync(true));
  const freshSeen = watch(fresh);
  await fresh.subscribeAsync(['homeassistant/#', 'isaac/+/status'], { qos: 1 });
  await waitFor(() => freshSeen.has('isaac/alpha/status'), "alpha's retained status");
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(
    [...freshSeen.keys()].filter((topic) => topic.includes('beta')),
    [],
    'nothing of beta is retained',
  );
  // the helper's list is the one the daemon publishes
  assert.deepEqual(
    discoveryMessages('alpha', 'x')
      .map((m) => m.topic)
      .sort(),
    [...entities.keys()].sort(),
  );
});
