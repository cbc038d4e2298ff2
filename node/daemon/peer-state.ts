/**
 * Ordering of a machine's status messages. Every status a node publishes carries `conn`, the start
 * of the MQTT connection it belongs to (also inside that connection's last will), and `at`, a
 * per-process increasing publish time. Messages reach a peer out of order: an old connection's
 * last will fires after the new connection said "online", a retained "offline" is replayed on a
 * resubscribe. The order is: later connection first; within one connection "offline" ends it
 * (nothing of that connection can come after); then publish time.
 */
export interface StatusStamp {
  state: 'online' | 'offline';
  conn?: number;
  at?: number;
}

function stampOf(raw: Readonly<Record<string, unknown>>): StatusStamp | undefined {
  if (raw.state !== 'online' && raw.state !== 'offline') return undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);
  const conn = n(raw.conn);
  const at = n(raw.at);
  return { state: raw.state, ...(conn ? { conn } : {}), ...(at ? { at } : {}) };
}

/** `[connection, ended, publish time]`, compared in that order. */
function orderKey(s: StatusStamp): [number, number, number] {
  return [s.conn ?? 0, s.state === 'offline' ? 1 : 0, s.at ?? 0];
}

/**
 * Whether `next` (a status payload just received) replaces `prev` (the last one applied for the
 * same machine). Unstamped payloads (older Isaac, other tools) apply unless a stamped one is known.
 */
export function shouldApply(
  prev: Readonly<Record<string, unknown>> | undefined,
  next: Readonly<Record<string, unknown>>,
): boolean {
  const incoming = stampOf(next);
  if (!incoming) return false;
  const known = prev ? stampOf(prev) : undefined;
  if (!known) return true;
  if (incoming.conn === undefined) return known.conn === undefined;
  const a = orderKey(incoming);
  const b = orderKey(known);
  for (let i = 0; i < 3; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return true; // the same message again (a retained copy on resubscribe)
}

/** Increasing stamps for one process: never equal, never going back even if the clock does. */
export class StatusClock {
  private last = 0;

  next(): number {
    this.last = Math.max(Date.now(), this.last + 1);
    return this.last;
  }
}
