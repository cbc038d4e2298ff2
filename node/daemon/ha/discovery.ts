import { topics } from '../../../schemas/topics.ts';

/**
 * Home Assistant MQTT discovery for one machine (HA docs: "MQTT Discovery"): retained configs at
 * `homeassistant/<component>/<machine>/<object_id>/config` (the topic convention the broker ACL
 * allows), all reading the plain JSON status topic `isaac/<machine>/status`. Nothing sealed is
 * ever referenced, so Home Assistant needs no Isaac keys.
 */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

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
  const availability = {
    availability_topic: state,
    availability_template: '{{ value_json.state }}',
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const config = (
    component: string,
    objectId: string,
    fields: Record<string, unknown>,
  ): DiscoveryMessage => ({
    topic: `${topics.haPrefix}/${component}/${machine}/${objectId}/config`,
    payload: JSON.stringify({
      unique_id: `isaac_${machine}_${objectId}`,
      object_id: `isaac_${machine}_${objectId}`,
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
    config('sensor', 'commands_today', {
      name: 'Commands today',
      state_class: 'measurement',
      unit_of_measurement: 'commands',
      value_template: '{{ value_json.commands_today }}',
      ...availability,
    }),
    config('sensor', 'outbox', {
      name: 'Outbox depth',
      state_class: 'measurement',
      unit_of_measurement: 'messages',
      value_template: '{{ value_json.outbox }}',
      ...availability,
    }),
  ];
}
