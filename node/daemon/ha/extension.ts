import type { Store } from '../../core/store/store.ts';
import type { Extension } from '../extensions.ts';
import type { Logger } from '../logger.ts';
import { discoveryMessages } from './discovery.ts';

export interface HomeAssistantExtension extends Extension {
  /** Home Assistant announced itself (`homeassistant/status` = online): it wants the configs again. */
  homeAssistantOnline(): void;
}

/** Home Assistant discovery (opt-in, `ha.discovery`): retained configs on every connect and HA birth. */
export function homeAssistantExtension(d: {
  store: Store;
  me: string;
  version: string;
  publishRetained(topic: string, payload: string): void;
  log: Logger;
}): HomeAssistantExtension {
  const publish = () => {
    if (!d.store.config.bool('ha.discovery')) return;
    const messages = discoveryMessages(d.me, d.version);
    for (const m of messages) d.publishRetained(m.topic, m.payload);
    d.log.debug({ entities: messages.length }, 'published Home Assistant discovery');
  };
  return { name: 'ha', onConnected: publish, homeAssistantOnline: publish };
}
