import type { MessageType } from '../../../schemas/messages.ts';
import type { Opened } from '../bus/envelope-port.ts';

/**
 * What the daemon does with one message type (node/daemon/intake.ts calls it). Every part is
 * optional; a type with no part is only acknowledged.
 */
export interface Handler<K extends MessageType> {
  /** Inside the seen-id transaction: only database writes and outbox rows, so it is all or nothing. */
  apply?(env: Opened<K>): void;
  /** After the transaction committed: start processes, tell the shells. */
  after?(env: Opened<K>): void;
  /** Inside the transaction that records an expired envelope's id: the answer an expired request gets. */
  expired?(env: Opened<K>): void;
}

/** One handler per message type: a new type in schemas/messages.ts does not compile without one. */
export type HandlerTable = { readonly [K in MessageType]: Handler<K> };

/** The handler of `env`'s type, typed for it. */
export function handlerOf<K extends MessageType>(table: HandlerTable, env: Opened<K>): Handler<K> {
  return table[env.type];
}
