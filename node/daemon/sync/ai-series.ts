import type { AiRecordWire, HistoryBatch, TombstoneWire } from '../../../schemas/messages.ts';
import {
  AI_CURSOR,
  AI_TOMBSTONE_CURSOR,
  aiSeriesRange,
  applyAiTombstones,
  heldAiMap,
  ownAiMaxSeq,
  ownAiTombstonesAfter,
} from '../../core/store/ai-sync-state.ts';
import type { Store } from '../../core/store/store.ts';
import { cursor, setCursor } from '../../core/store/sync-state.ts';
import type { Logger } from '../logger.ts';
import { batchRecords, planSync } from './plan.ts';

/**
 * The AI history of each machine as a series of its own, synced by HistorySync (engine.ts) beside
 * the command series: the same envelopes (sealed, signed `history-batch` / `sync-request`), the
 * same `INSERT OR IGNORE` on (origin, seq), the same `{origin: max seq}` catch-up and the same
 * tombstone rules, over `ai_history` / `ai_tombstones` and the `ai`, `aiTombstones`, `haveAi`
 * fields of those messages.
 *
 * Why a series of its own rather than seqs in the command series: a command seq held by an AI
 * record would be a hole in `commands`, so the held map of every peer that keeps no AI records
 * (an older Isaac) would stop at the first AI question and it would ask for the rest of the
 * series on every catch-up, for ever; and everything that reads the command series (history,
 * search, adoption, seq floors, /forget) would have to skip AI rows. Apart, an older peer simply
 * ignores the AI fields and its command sync is exactly what it was.
 */
/** What the AI series needs from the engine: its batch sender (durable outbox, PUBACK tracking) and counters. */
export interface AiSeriesLink {
  send(peer: string, batch: HistoryBatch): void;
  counts(peer: string): { sent: number; received: number; refused: number };
}

/** The engine's options it reads (engine.ts SyncOptions). */
export interface AiSeriesOptions {
  log: Logger;
  maxPayloadBytes?: number;
  rangeSlice?: number;
  refuse?(reason: string, detail: string): void;
}

/** Text of a question or answer beyond this travels cut (the full text stays on its origin). */
const SYNCED_AI_TEXT = 32 * 1024;
const TOMBSTONES_PER_BATCH = 4000;
/** As engine.ts: room left for the envelope around a batch, seqs read at a time. */
const ENVELOPE_ROOM = 4096 + 16;
const RANGE_SLICE = 20_000;

export class AiSeriesSync {
  private readonly batchBytes: number;
  private readonly rangeSlice: number;

  constructor(
    private readonly store: Store,
    private readonly me: string,
    private readonly options: AiSeriesOptions,
    private readonly link: AiSeriesLink,
  ) {
    this.batchBytes = (options.maxPayloadBytes ?? 256 * 1024) - ENVELOPE_ROOM;
    this.rangeSlice = options.rangeSlice ?? RANGE_SLICE;
  }

  /** What we hold of every AI series, for a `sync-request`'s `haveAi`. */
  held(): Record<string, number> {
    return heldAiMap(this.store.db);
  }

  /** Own AI records and tombstones `peer` has not been handed yet (inside the engine's transaction). */
  push(peer: string): number {
    const db = this.store.db;
    const me = this.me;
    const from = cursor(db, peer, AI_CURSOR);
    const top = ownAiMaxSeq(db, me);
    const sent = top > from ? this.sendRange(peer, from + 1, top) : 0;
    const fresh = ownAiTombstonesAfter(db, me, cursor(db, peer, AI_TOMBSTONE_CURSOR)).filter(
      (t) => t.origin !== me || t.seq <= from, // the range above carried the rest
    );
    if (fresh.length > 0) {
      this.sendTombstones(peer, fresh);
      setCursor(db, peer, AI_TOMBSTONE_CURSOR, fresh[fresh.length - 1]!.rowid);
    }
    return sent;
  }

  /** The AI part of a verified batch from `from` (the engine has refused records of other origins). */
  apply(from: string, batch: HistoryBatch): void {
    if (batch.aiTombstones?.length) {
      applyAiTombstones(this.store.db, this.allowedTombstones(from, batch.aiTombstones), from);
    }
    if (batch.ai?.length) this.link.counts(from).received += this.store.aiHistory.insertRemote(batch.ai);
  }

  /**
   * Answers the `haveAi` of a peer's request: sends the own AI records it lacks (and with `force`
   * every AI tombstone made here). Returns whether the peer holds AI records we lack.
   */
  answer(from: string, haveAi: Record<string, number>, force: boolean): boolean {
    const plan = planSync(this.held(), haveAi, { self: this.me, peer: from });
    for (const range of plan.send) this.sendRange(from, range.fromSeq, range.toSeq);
    if (force) {
      const made = ownAiTombstonesAfter(this.store.db, this.me, 0).filter((t) => t.origin !== this.me);
      if (made.length > 0) this.sendTombstones(from, made);
    }
    return plan.request.length > 0;
  }

  /** Tombstones as for commands: from the record's origin, or from an admin. */
  private allowedTombstones(from: string, tombstones: readonly TombstoneWire[]): TombstoneWire[] {
    const admin = this.store.machines.isAdmin(from);
    const allowed = tombstones.filter((t) => t.origin === from || admin);
    const refused = tombstones.length - allowed.length;
    if (refused > 0) {
      this.link.counts(from).refused += refused;
      const origins = [...new Set(tombstones.filter((t) => t.origin !== from).map((t) => t.origin))];
      const detail = `${refused} AI tombstone(s): ${from} tried to delete AI records of ${origins.join(', ')}: only their origin or an admin may`;
      if (this.options.refuse) this.options.refuse('foreign-tombstone', detail);
      else this.options.log.warn(`history sync: refused ${detail}`);
    }
    return allowed;
  }

  private sendRange(peer: string, from: number, to: number): number {
    let sent = 0;
    for (let start = from; start <= to; start += this.rangeSlice) {
      const end = Math.min(to, start + this.rangeSlice - 1);
      const { records, tombstones } = aiSeriesRange(this.store.db, this.me, start, end, SYNCED_AI_TEXT);
      const { batches, tooLarge } = batchRecords<AiRecordWire>(records, this.batchBytes);
      const withheld: TombstoneWire[] = [...tombstones];
      for (const r of tooLarge) {
        this.options.log.warn(
          `history sync: AI record ${this.me}#${r.seq} is larger than a payload; sent as withheld`,
        );
        withheld.push({ origin: this.me, seq: r.seq });
      }
      for (const batch of batches) this.link.send(peer, { records: [], ai: batch });
      if (withheld.length > 0) this.sendTombstones(peer, withheld);
      sent += records.length - tooLarge.length;
    }
    setCursor(this.store.db, peer, AI_CURSOR, to);
    this.link.counts(peer).sent += sent;
    return sent;
  }

  private sendTombstones(peer: string, tombstones: readonly TombstoneWire[]): void {
    for (let i = 0; i < tombstones.length; i += TOMBSTONES_PER_BATCH) {
      const slice = tombstones
        .slice(i, i + TOMBSTONES_PER_BATCH)
        .map((t) => ({ origin: t.origin, seq: t.seq }));
      this.link.send(peer, { records: [], aiTombstones: slice });
    }
  }
}
