import { errorLine } from '../../schemas/errors.ts';
import type { Logger } from './logger.ts';

/**
 * A feature that rides on the daemon's session (history sync, network-key rotation, Home
 * Assistant discovery, the heartbeat): started and stopped with the daemon, told about every
 * connect and every new member. Its message types, if any, are handled by handlers/ modules.
 */
export interface Extension {
  readonly name: string;
  start?(): void;
  stop?(): void;
  onConnected?(): void;
  onMemberAdded?(name: string): void;
}

/** The one controller the daemon's extensions are registered in; one failing never stops the others. */
export class Extensions {
  private readonly list: Extension[] = [];

  constructor(private readonly log: Logger) {}

  add(extension: Extension): void {
    this.list.push(extension);
  }

  start(): void {
    for (const e of this.list) this.guard(e, 'start', () => e.start?.());
  }

  stop(): void {
    for (const e of [...this.list].reverse()) this.guard(e, 'stop', () => e.stop?.());
  }

  connected(): void {
    for (const e of this.list) this.guard(e, 'connect', () => e.onConnected?.());
  }

  memberAdded(name: string): void {
    for (const e of this.list) this.guard(e, 'new member', () => e.onMemberAdded?.(name));
  }

  private guard(e: Extension, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ extension: e.name }, `${e.name} failed on ${what}: ${errorLine(err)}`);
    }
  }
}
