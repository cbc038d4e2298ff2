import { hostname, networkInterfaces, platform, release } from 'node:os';
import type { StatusUpdate } from '../core/store/machines.ts';
import type { Store } from '../core/store/store.ts';

/**
 * Reads a retained `isaac/<m>/status` payload (plain JSON from anyone who may publish there).
 * Only known fields with the right types are taken; anything else makes it unreadable.
 */
export function parseStatusPayload(
  payload: Buffer,
): { update: StatusUpdate; raw: Record<string, unknown> } | undefined {
  if (payload.length > 16 * 1024) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.state !== 'online' && r.state !== 'offline') return undefined;
  const text = (v: unknown) => (typeof v === 'string' && v.length <= 256 ? v : undefined);
  const update: StatusUpdate = { state: r.state };
  const version = text(r.version);
  const host = text(r.hostname);
  const os = text(r.os);
  const address = text(r.address);
  if (version) update.version = version;
  if (host) update.hostname = host;
  if (os) update.os = os;
  if (address) update.address = address;
  if (typeof r.last_seen === 'number' && Number.isSafeInteger(r.last_seen)) update.lastSeen = r.last_seen;
  else if (r.state === 'online') update.lastSeen = Date.now();
  return { update, raw: r };
}

/** Figures for the status payload and Home Assistant sensors. */
export function commandFigures(
  store: Store,
  now: Date = new Date(),
): { last_command: number | null; commands_today: number } {
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const origin = store.machineName();
  const row = store.db
    .prepare<{ origin: string; midnight: number }, { last: number | null; today: number }>(
      'SELECT (SELECT MAX(ts) FROM commands WHERE origin = @origin) AS last, (SELECT COUNT(*) FROM commands WHERE origin = @origin AND ts >= @midnight) AS today',
    )
    .get({ origin, midnight });
  return { last_command: row?.last ?? null, commands_today: row?.today ?? 0 };
}

/** The retained `isaac/<me>/status` payload this machine publishes (plain JSON, no secrets). */
export function ownStatusPayload(store: Store, me: string, version: string): Record<string, unknown> {
  const address = lanAddress();
  return {
    state: 'online',
    name: me,
    version,
    hostname: hostname(),
    ...(address ? { address } : {}),
    os: `${platform()} ${release()}`,
    last_seen: Date.now(),
    outbox: store.outbox.count(),
    ...commandFigures(store),
  };
}

/** The first non-loopback IPv4 address, shown in /show machines. */
function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
