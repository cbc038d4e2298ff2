import type { Store } from '../../core/store/store.ts';
import type { DaemonExtension } from '../daemon.ts';
import { type DiscoveryMessage, discoveryMessages, discoveryRemovals } from './discovery.ts';

/**
 * Home Assistant discovery following `ha.discovery` while the node runs: the configs go out on
 * every connect and on HA's birth message while it is on, at once when it is turned on, and are
 * removed (empty retained configs) when it is turned off, also when that happened while the node
 * was stopped or offline. `/set config` writes the shell's own SQLite connection, so the daemon
 * notices by reading the key every `pollMs` (one indexed row; the shell needs no socket for it).
 */
export interface RetainedPublisher {
  publishRetained(topic: string, payload: string, done?: (err?: Error) => void): void;
}

export interface HaDiscoveryOptions {
  store: Store;
  me: string;
  version: string;
  log(line: string): void;
  pollMs?: number;
}

const CONFIG_KEY = 'ha.discovery';
/** internal: configs may be retained at the broker (set when sent, cleared once removed) */
const PUBLISHED_KEY = 'ha.discovery_published';

export class HaDiscovery {
  private publisher: RetainedPublisher | undefined;
  private enabled: boolean;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: HaDiscoveryOptions) {
    this.enabled = this.isOn();
  }

  attach(publisher: RetainedPublisher): void {
    this.publisher = publisher;
  }

  /** What the daemon publishes on connect and on `homeassistant/status` online. */
  messages(): DiscoveryMessage[] {
    if (!this.isOn()) return [];
    this.o.store.config.setInternal(PUBLISHED_KEY, 'on');
    return discoveryMessages(this.o.me, this.o.version);
  }

  extension(): DaemonExtension {
    return {
      types: [],
      apply: () => {},
      onConnected: () => this.removeIfOff(),
      start: () => {
        this.timer = setInterval(() => this.check(), this.o.pollMs ?? 1000);
        this.timer.unref();
      },
      stop: () => clearInterval(this.timer),
    };
  }

  private isOn(): boolean {
    return this.o.store.config.getBool(CONFIG_KEY);
  }

  private check(): void {
    const on = this.isOn();
    if (on === this.enabled) return;
    this.enabled = on;
    this.o.log(`Home Assistant discovery turned ${on ? 'on' : 'off'}`);
    if (!on) return this.removeIfOff();
    // not connected: nothing is sent now, the next connect publishes them
    for (const m of this.messages()) this.publisher?.publishRetained(m.topic, m.payload);
  }

  private removeIfOff(): void {
    if (this.isOn() || this.o.store.config.get(PUBLISHED_KEY) !== 'on' || !this.publisher) return;
    const removals = discoveryRemovals(this.o.me);
    let waiting = removals.length;
    let failed = false;
    for (const m of removals) {
      this.publisher.publishRetained(m.topic, m.payload, (err) => {
        if (err) failed = true;
        if (--waiting > 0) return;
        // kept on a failure: the next connect removes them again
        if (!failed && !this.isOn()) this.o.store.config.setInternal(PUBLISHED_KEY, 'off');
      });
    }
  }
}
