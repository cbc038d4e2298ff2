import { encodeCbor } from '../../../schemas/codec.ts';

/**
 * Catch-up planning, Atuin style: both sides describe what they hold as `{origin: max seq}`
 * (the highest seq held without a gap, tombstones counting as held), and the difference of the
 * two maps is the whole plan. Pure, so every case is tested from a table before any I/O happens.
 */
export type SeqMap = Readonly<Record<string, number>>;

export interface SeqRange {
  origin: string;
  /** Inclusive. */
  fromSeq: number;
  /** Inclusive. */
  toSeq: number;
}

export interface SyncPlan {
  /** Ranges we hold and the peer lacks. */
  send: SeqRange[];
  /** Ranges the peer holds and we lack. */
  request: SeqRange[];
}

/**
 * Restricts the plan to what can be trusted: a record is accepted only when signed by its
 * origin, so a machine sends only its own series (`self`) and asks a peer only for the peer's.
 */
export interface PlanScope {
  self: string;
  peer: string;
}

function held(map: SeqMap, origin: string): number {
  const v = Object.hasOwn(map, origin) ? map[origin] : undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0;
}

export function planSync(local: SeqMap, remote: SeqMap, scope?: PlanScope): SyncPlan {
  const origins = [...new Set([...Object.keys(local), ...Object.keys(remote)])].sort();
  const plan: SyncPlan = { send: [], request: [] };
  for (const origin of origins) {
    const mine = held(local, origin);
    const theirs = held(remote, origin);
    if (mine > theirs && (!scope || origin === scope.self)) {
      plan.send.push({ origin, fromSeq: theirs + 1, toSeq: mine });
    } else if (theirs > mine && (!scope || origin === scope.peer)) {
      plan.request.push({ origin, fromSeq: mine + 1, toSeq: theirs });
    }
  }
  return plan;
}

export function rangeSize(ranges: readonly SeqRange[]): number {
  return ranges.reduce((n, r) => n + (r.toSeq - r.fromSeq + 1), 0);
}

/**
 * Splits records into batches whose CBOR encoding as `{records: [...]}` stays within `maxBytes`
 * (leave room for the envelope around it). Order is kept. A single record larger than the cap
 * cannot travel: it is returned in `tooLarge` so the caller can log it rather than loop on it.
 */
export function batchRecords<T>(
  records: readonly T[],
  maxBytes: number,
  sizeOf: (record: T) => number = (r) => encodeCbor(r).byteLength,
): { batches: T[][]; tooLarge: T[] } {
  // `{records: [...]}`: map header + key + array header (up to 5 bytes for long arrays).
  const frame = encodeCbor({ records: [] }).byteLength + 4;
  const batches: T[][] = [];
  const tooLarge: T[] = [];
  let current: T[] = [];
  let size = frame;
  for (const record of records) {
    const n = sizeOf(record);
    if (frame + n > maxBytes) {
      tooLarge.push(record);
      continue;
    }
    if (size + n > maxBytes) {
      batches.push(current);
      current = [];
      size = frame;
    }
    current.push(record);
    size += n;
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}
