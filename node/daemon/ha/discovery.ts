import { topics } from '../../../schemas/topics.ts';

/**
 * Home Assistant MQTT discovery for one machine (HA docs: "MQTT Discovery", single-component
 * payloads): retained configs at `homeassistant/<component>/<machine>/<object_id>/config` (the
 * topic convention the broker ACL allows), all reading the plain JSON status topic
 * `isaac/<machine>/status`. Nothing sealed is ever referenced, so Home Assistant needs no Isaac
 * keys. An empty retained payload on a config topic removes that entity (HA docs: "Removing
 * entities"); see discoveryRemovals.
 */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/**
 * The value of one status field, or HA's "None" (state unknown) when the payload lacks it: the
 * broker's last will `{"state":"offline"}` carries no figures, and a numeric sensor with a state
 * class refuses an empty string.
 */
const field = (name: string) =>
  `{{ value_json.${name} if value_json.${name} is defined and value_json.${name} is not none else None }}`;

export function discoveryMessages(machine: string, version: string): DiscoveryMessage[] {
  const state = topics.status(machine);
  const device = {
    identifiers: [`isaac_${machine}`],
    name: machine,
    manufacturer: 'Isaac',
    model: 'isaac-node',
    sw_version: version,
  };
  const origin = { name: 'isaac-node', sw_version: version };
  // one availability topic with a template: HA compares what it renders with these payloads
  const availability = {
    availability_topic: state,
    availability_template: '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const config = (
    component: 'binary_sensor' | 'sensor',
    objectId: string,
    fields: Record<string, unknown>,
  ): DiscoveryMessage => ({
    topic: `${topics.haPrefix}/${component}/${machine}/${objectId}/config`,
    payload: JSON.stringify({
      unique_id: `isaac_${machine}_${objectId}`,
      // `object_id` is deprecated in HA's discovery schema; this is its replacement
      default_entity_id: `${component}.isaac_${machine}_${objectId}`,
      device,
      origin,
      state_topic: state,
      ...fields,
    }),
  });
  return [
    // the online sensor itself must not be "unavailable" when offline: it reads the state directly
    config('binary_sensor', 'online', {
      name: 'Online',
      device_class: 'connectivity',
      value_template: '{{ value_json.state }}',
      payload_on: 'online',
      payload_off: 'offline',
    }),
    config('sensor', 'last_command', {
      name: 'Last command',
      device_class: 'timestamp',
      value_template:
        '{{ (value_json.last_command / 1000) | timestamp_custom("%Y-%m-%dT%H:%M:%S%z", false) if value_json.last_command else None }}',
      ...availability,
    }),
    // a count that only grows during the day and starts again at midnight: HA's total_increasing
    // treats a decrease as the start of a new cycle
    config('sensor', 'commands_today', {
      name: 'Commands today',
      state_class: 'total_increasing',
      unit_of_measurement: 'commands',
      value_template: field('commands_today'),
      ...availability,
    }),
    config('sensor', 'outbox', {
      name: 'Outbox depth',
      state_class: 'measurement',
      unit_of_measurement: 'messages',
      entity_category: 'diagnostic',
      value_template: field('outbox'),
      ...availability,
    }),
  ];
}

/** Empty retained payloads for every config topic: Home Assistant removes the entities. */
export function discoveryRemovals(machine: string): DiscoveryMessage[] {
  return discoveryMessages(machine, '').map((m) => ({ topic: m.topic, payload: '' }));
}
