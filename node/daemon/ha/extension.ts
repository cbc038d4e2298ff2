import type { Store } from '../../core/store/store.ts';
import type { Extension } from '../extensions.ts';
import type { Logger } from '../logger.ts';
import { discoveryMessages, discoveryRemovals } from './discovery.ts';

export interface HomeAssistantExtension extends Extension {
  /** Home Assistant announced itself (`homeassistant/status` = online): it wants the configs again. */
  homeAssistantOnline(): void;
}

const CONFIG_KEY = 'ha.discovery';
/** internal: configs may be retained at the broker (set when sent, cleared once removed) */
const PUBLISHED_KEY = 'ha.discovery_published';

/**
 * Home Assistant discovery following `ha.discovery` while the node runs: the configs go out on
 * every connect and on HA's birth message while it is on, at once when it is turned on, and are
 * removed (empty retained configs) when it is turned off, also when that happened while the node
 * was stopped or offline. `/set config` writes through the shell's own SQLite connection, so the
 * daemon notices by reading the key every `pollMs` (one indexed row; no socket round trip needed,
 * and any writer of the config table is seen).
 */
export function homeAssistantExtension(d: {
  store: Store;
  me: string;
  version: string;
  /** QoS 1 retained; `done` hears the PUBACK, or an error (also when not connected) */
  publishRetained(topic: string, payload: string, done?: (err?: Error) => void): void;
  log: Logger;
  pollMs?: number;
}): HomeAssistantExtension {
  const isOn = () => d.store.config.bool(CONFIG_KEY);
  let enabled = isOn();
  let timer: NodeJS.Timeout | undefined;

  const publish = () => {
    if (!isOn()) return;
    d.store.config.setInternal(PUBLISHED_KEY, 'on');
    const messages = discoveryMessages(d.me, d.version);
    for (const m of messages) d.publishRetained(m.topic, m.payload);
    d.log.debug({ entities: messages.length }, 'published Home Assistant discovery');
  };

  const removeIfOff = () => {
    if (isOn() || d.store.config.get(PUBLISHED_KEY) !== 'on') return;
    const removals = discoveryRemovals(d.me);
    let waiting = removals.length;
    let failed = false;
    for (const m of removals) {
      d.publishRetained(m.topic, m.payload, (err) => {
        if (err) failed = true;
        if (--waiting > 0) return;
        // kept on a failure (not connected, say): the next connect removes them again
        if (failed || isOn()) return;
        d.store.config.setInternal(PUBLISHED_KEY, 'off');
        d.log.info({ entities: removals.length }, 'removed Home Assistant discovery');
      });
    }
  };

  const check = () => {
    const on = isOn();
    if (on === enabled) return;
    enabled = on;
    d.log.info(`Home Assistant discovery turned ${on ? 'on' : 'off'}`);
    // not connected: nothing goes out now, the next connect publishes or removes
    if (on) publish();
    else removeIfOff();
  };

  return {
    name: 'ha',
    start: () => {
      timer = setInterval(check, d.pollMs ?? 1000);
      timer.unref();
    },
    stop: () => clearInterval(timer),
    onConnected: () => {
      publish();
      removeIfOff();
    },
    homeAssistantOnline: publish,
  };
}
