import { errorLine } from '../../../schemas/errors.ts';
import type {
  HistoryBatch,
  HistoryRecordWire,
  MessageBodies,
  SyncRequest,
  TombstoneWire,
} from '../../../schemas/messages.ts';
import { globToRegExp, isGlob } from '../../core/glob.ts';
import type { RemoteCommand } from '../../core/store/history.ts';
import type { Store } from '../../core/store/store.ts';
import {
  applyTombstones,
  cursor,
  heldMap,
  ownMaxSeq,
  ownTombstonesAfter,
  seriesRange,
  setCursor,
  TOMBSTONE_CURSOR,
  touch,
} from '../../core/store/sync-state.ts';
import { idHex, type OpenedEnvelope } from '../bus/envelope-port.ts';
import type { Logger } from '../logger.ts';
import { AiSeriesSync } from './ai-series.ts';
import { batchRecords, planSync } from './plan.ts';

/** What sync needs from isaac-node: the daemon's enqueue (seal, durable outbox, publish) and the roster. */
export interface SyncTransport {
  readonly me: string;
  enqueue<K extends 'history-batch' | 'sync-request'>(
    type: K,
    to: string,
    body: MessageBodies[K],
    exp: number,
  ): Uint8Array;
  /** Current members other than this machine (not revoked). */
  peers(): string[];
}

export interface SyncOptions {
  log: Logger;
  /** Payload cap agreed with the broker; batches stay under it with room for the envelope. */
  maxPayloadBytes?: number;
  /** How often new own records and tombstones are looked for (live sync). */
  pollMs?: number;
  /** Seqs read into memory at a time when sending a range (default 20,000). */
  rangeSlice?: number;
  /** Counts a refusal where the node's status shows it (the daemon's refusal counter). */
  refuse?(reason: string, detail: string): void;
}

export interface PeerCounts {
  sent: number;
  received: number;
  refused: number;
  /** ms since epoch of the last PUBACK of a batch to this peer. */
  lastAck: number | undefined;
}

/** Batches live in the broker's session queue while a peer is away; catch-up covers longer absences. */
const HISTORY_TTL_MS = 29 * 24 * 60 * 60 * 1000;
const ENVELOPE_ROOM = 4096;
const SYNCED_OUTPUT_LIMIT = 16 * 1024;
const TOMBSTONES_PER_BATCH = 4000;
const RANGE_SLICE = 20_000;

/** `sync.exclude`: comma-separated; `*`/`?` globs over the whole command, else a substring. */
export function excludeMatcher(spec: string): (command: string) => boolean {
  const patterns = spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => (isGlob(p) ? globToRegExp(p) : p));
  if (patterns.length === 0) return () => false;
  return (command) => patterns.some((p) => (typeof p === 'string' ? command.includes(p) : p.test(command)));
}

/**
 * History sync for one machine. Live: every `pollMs` its own new records (and the tombstones it
 * made) go to each peer through the durable outbox. Catch-up: a `sync-request` carries the
 * held map; the answer is planned by planSync and sent as size-capped batches. A machine sends
 * only its own series and accepts a record only from its origin. A tombstone is accepted from its
 * origin, or from an admin unless the record is one another machine ran there (`remote:` source),
 * which only its origin may delete (DESIGN.md, "Identity, trust and the broker").
 */
export class HistorySync {
  private timer: NodeJS.Timeout | undefined;
  private readonly awaitingAck = new Map<string, { id: Uint8Array; peer: string }>();
  private readonly counts = new Map<string, PeerCounts>();
  private readonly isOutboxed;
  /** the AI series, synced beside the command series in the same messages */
  private readonly ai: AiSeriesSync;
  private lastReceived = Date.now();

  constructor(
    private readonly store: Store,
    private readonly transport: SyncTransport,
    private readonly options: SyncOptions,
  ) {
    this.isOutboxed = store.db.prepare<[Uint8Array], { one: number }>(
      'SELECT 1 AS one FROM outbox WHERE id = ?',
    );
    this.ai = new AiSeriesSync(store, transport.me, options, {
      send: (peer, batch) => this.sendBatch(peer, batch),
      counts: (peer) => this.countsFor(peer),
    });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.pollMs ?? 250);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round of live sync plus PUBACK bookkeeping; safe to call any time. */
  tick(): void {
    try {
      this.pushNew();
      this.checkAcks();
    } catch (err) {
      this.options.log.warn(`history sync: ${errorLine(err)}`);
    }
  }

  /**
   * `/sync` and `/sync force`: pushes what is new, asks every peer (from zero with force), then
   * waits until our requests and batches are PUBACKed and nothing has arrived for `quietMs` since (or `timeoutMs`).
   * Returns what moved per peer during the call; `settled` false means it stopped on the timeout.
   */
  async syncNow(
    options: { force?: boolean; quietMs?: number; timeoutMs?: number } = {},
  ): Promise<{ settled: boolean; peers: Record<string, { sent: number; received: number }> }> {
    const before = new Map(
      [...this.counts].map(([peer, c]) => [peer, { sent: c.sent, received: c.received }]),
    );
    const peers = this.transport.peers();
    if (options.force) {
      for (const peer of peers) this.store.db.prepare('DELETE FROM sync_state WHERE peer = ?').run(peer);
    }
    this.tick();
    // not settled before our requests have even reached the broker (still connecting)
    const requests = this.requestCatchUp(peers, { force: options.force ?? false });
    let sentAt: number | undefined;
    const quietMs = options.quietMs ?? 1000;
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let settled = false;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      this.tick();
      if (sentAt === undefined && requests.every((id) => !this.isOutboxed.get(id))) sentAt = Date.now();
      const quietSince = Math.max(this.lastReceived, sentAt ?? Number.POSITIVE_INFINITY);
      if (this.awaitingAck.size === 0 && Date.now() - quietSince >= quietMs) {
        settled = true;
        break;
      }
    }
    const result: Record<string, { sent: number; received: number }> = {};
    for (const peer of peers) {
      const now = this.countsFor(peer);
      const was = before.get(peer) ?? { sent: 0, received: 0 };
      result[peer] = { sent: now.sent - was.sent, received: now.received - was.received };
    }
    return { settled, peers: result };
  }

  peerCounts(): Record<string, PeerCounts> {
    return Object.fromEntries(this.counts);
  }

  /** Sends each peer the own records and own tombstones it has not been handed yet. Returns records sent. */
  pushNew(): number {
    const db = this.store.db;
    const me = this.transport.me;
    return db
      .transaction(() => {
        let sent = 0;
        const top = ownMaxSeq(db, me);
        for (const peer of this.transport.peers()) {
          // A savepoint per peer: one peer that cannot be sealed to does not hold up the others.
          try {
            sent += db.transaction(() => this.pushTo(peer, top))();
          } catch (err) {
            this.options.log.warn(`history sync to ${peer}: ${errorLine(err)}`);
          }
        }
        return sent;
      })
      .immediate();
  }

  private pushTo(peer: string, top: number): number {
    const db = this.store.db;
    const me = this.transport.me;
    const from = cursor(db, peer, me);
    const sent = top > from ? this.sendRange(peer, from + 1, top) : 0;
    const tombCursor = cursor(db, peer, TOMBSTONE_CURSOR);
    const fresh = ownTombstonesAfter(db, me, tombCursor).filter((t) => t.origin !== me || t.seq <= from);
    if (fresh.length > 0) {
      this.sendTombstones(peer, fresh);
      setCursor(db, peer, TOMBSTONE_CURSOR, fresh[fresh.length - 1]!.rowid);
    }
    return sent + this.ai.push(peer);
  }

  /**
   * Asks peers for what they hold that we lack (and tells them what we hold). Never throws.
   * Returns the ids of the requests queued.
   */
  requestCatchUp(
    peers: readonly string[] = this.transport.peers(),
    options: { force?: boolean } = {},
  ): Uint8Array[] {
    const ids: Uint8Array[] = [];
    try {
      const have = options.force ? {} : heldMap(this.store.db);
      const haveAi = options.force ? {} : this.ai.held();
      for (const peer of peers) {
        const body: SyncRequest = options.force ? { have, haveAi, force: true } : { have, haveAi };
        try {
          ids.push(this.transport.enqueue('sync-request', peer, body, Date.now() + HISTORY_TTL_MS));
        } catch (err) {
          this.options.log.warn(`history sync: cannot ask ${peer}: ${errorLine(err)}`);
        }
      }
    } catch (err) {
      this.options.log.warn(`history sync: ${errorLine(err)}`);
    }
    return ids;
  }

  /**
   * Applies a verified `history-batch` or `sync-request`. Call inside the daemon's seen-id
   * transaction: it only writes rows and outbox entries, so it is all or nothing.
   */
  apply(env: OpenedEnvelope): void {
    if (env.type === 'history-batch') this.applyBatch(env.from, env.body);
    else if (env.type === 'sync-request') this.answerRequest(env.from, env.body);
  }

  private applyBatch(from: string, batch: HistoryBatch): void {
    const counts = this.countsFor(from);
    const forged = batch.records.find((r) => r.origin !== from) ?? batch.ai?.find((r) => r.origin !== from);
    if (forged) {
      counts.refused++;
      this.options.log.warn(
        { from, origin: forged.origin },
        `history sync: refused a batch from ${from} carrying records of ${forged.origin}`,
      );
      return;
    }
    this.lastReceived = Date.now();
    const db = this.store.db;
    if (batch.tombstones?.length) applyTombstones(db, this.allowedTombstones(from, batch.tombstones), from);
    const records: RemoteCommand[] = batch.records.map((r) => ({
      origin: r.origin,
      seq: r.seq,
      ts: r.ts,
      command: r.command,
      output: r.output ?? null,
      cwd: r.cwd ?? null,
      exit: r.exit ?? null,
      duration_ms: r.durationMs ?? null,
      session: r.session ?? null,
      ...(r.source === undefined ? {} : { source: r.source }),
    }));
    counts.received += records.length === 0 ? 0 : this.store.history.insertRemote(records);
    this.ai.apply(from, batch);
    touch(db, from, from, Date.now());
  }

  /** The tombstones `from` may make; the others are refused, logged and counted. */
  private allowedTombstones(from: string, tombstones: readonly TombstoneWire[]): TombstoneWire[] {
    const admin = this.store.machines.isAdmin(from);
    const ranByOthers = this.store.db.prepare<[string, number], { source: string }>(
      "SELECT source FROM commands WHERE origin = ? AND seq = ? AND source LIKE 'remote:%'",
    );
    const allowed: TombstoneWire[] = [];
    const refused = new Map<string, number>();
    for (const t of tombstones) {
      if (t.origin === from || (admin && !ranByOthers.get(t.origin, t.seq))) allowed.push(t);
      else refused.set(t.origin, (refused.get(t.origin) ?? 0) + 1);
    }
    if (refused.size > 0) {
      const total = tombstones.length - allowed.length;
      this.countsFor(from).refused += total;
      const what = [...refused].map(([origin, n]) => `${n} of ${origin}`).join(', ');
      const detail = `${from} tried to delete records it may not delete (${what}): only their origin${admin ? '' : ' or an admin'} may`;
      if (this.options.refuse) this.options.refuse('foreign-tombstone', `${total} tombstone(s): ${detail}`);
      else this.options.log.warn(`history sync: refused ${total} tombstone(s): ${detail}`);
    }
    return allowed;
  }

  private answerRequest(from: string, request: SyncRequest): void {
    const db = this.store.db;
    const me = this.transport.me;
    const held = heldMap(db);
    const plan = planSync(held, request.have, { self: me, peer: from });
    for (const range of plan.send) {
      this.sendRange(from, range.fromSeq, range.toSeq);
      setCursor(db, from, me, range.toSeq);
    }
    if (request.force) {
      const made = ownTombstonesAfter(db, me, 0).filter((t) => t.origin !== me);
      if (made.length > 0) this.sendTombstones(from, made);
    }
    // a peer without AI series (an older Isaac) sends no haveAi and gets none
    const aiLacking = request.haveAi ? this.ai.answer(from, request.haveAi, request.force === true) : false;
    if (!request.reply && (plan.request.length > 0 || aiLacking || request.force)) {
      const again: SyncRequest = { have: held, haveAi: this.ai.held(), reply: true };
      this.transport.enqueue('sync-request', from, again, Date.now() + HISTORY_TTL_MS);
    }
  }

  /** Own series [from, to] to `peer`; excluded commands travel as tombstones so no gap is left. */
  private sendRange(peer: string, from: number, to: number): number {
    // Bounded memory for a big catch-up: read and batch the series a slice at a time.
    let sent = 0;
    const slice = this.options.rangeSlice ?? RANGE_SLICE;
    for (let start = from; start <= to; start += slice) {
      sent += this.sendSlice(peer, start, Math.min(to, start + slice - 1));
    }
    return sent;
  }

  private sendSlice(peer: string, from: number, to: number): number {
    const me = this.transport.me;
    const config = this.store.config;
    const excluded = excludeMatcher(config.string('sync.exclude'));
    const withOutput = config.bool('sync.output');
    const { records, tombstones } = seriesRange(this.store.db, me, from, to);
    const outgoing: HistoryRecordWire[] = [];
    const withheld: TombstoneWire[] = [...tombstones];
    for (const r of records) {
      if (excluded(r.command)) {
        withheld.push({ origin: me, seq: r.seq });
        continue;
      }
      if (!withOutput || r.output === undefined) delete r.output;
      else if (r.output.length > SYNCED_OUTPUT_LIMIT) r.output = r.output.slice(0, SYNCED_OUTPUT_LIMIT);
      outgoing.push(r);
    }
    const cap = (this.options.maxPayloadBytes ?? 256 * 1024) - ENVELOPE_ROOM;
    const { batches, tooLarge } = batchRecords(outgoing, cap);
    for (const r of tooLarge) {
      this.options.log.warn(`history sync: record ${me}#${r.seq} is larger than a payload; sent as withheld`);
      withheld.push({ origin: me, seq: r.seq });
    }
    for (const batch of batches) this.sendBatch(peer, { records: batch });
    if (withheld.length > 0) this.sendTombstones(peer, withheld);
    setCursor(this.store.db, peer, me, to);
    this.countsFor(peer).sent += outgoing.length - tooLarge.length;
    return outgoing.length - tooLarge.length;
  }

  private sendTombstones(peer: string, tombstones: readonly TombstoneWire[]): void {
    for (let i = 0; i < tombstones.length; i += TOMBSTONES_PER_BATCH) {
      const slice = tombstones
        .slice(i, i + TOMBSTONES_PER_BATCH)
        .map((t) => ({ origin: t.origin, seq: t.seq }));
      this.sendBatch(peer, { records: [], tombstones: slice });
    }
  }

  private sendBatch(peer: string, batch: HistoryBatch): void {
    const id = this.transport.enqueue('history-batch', peer, batch, Date.now() + HISTORY_TTL_MS);
    this.awaitingAck.set(idHex(id), { id, peer });
  }

  /** A batch's outbox row is deleted on PUBACK: that is when the peer counts as synced. */
  private checkAcks(): void {
    const now = Date.now();
    for (const [key, entry] of this.awaitingAck) {
      if (this.isOutboxed.get(entry.id)) continue;
      this.awaitingAck.delete(key);
      this.countsFor(entry.peer).lastAck = now;
      touch(this.store.db, entry.peer, this.transport.me, now);
    }
  }

  private countsFor(peer: string): PeerCounts {
    let c = this.counts.get(peer);
    if (!c) {
      c = { sent: 0, received: 0, refused: 0, lastAck: undefined };
      this.counts.set(peer, c);
    }
    return c;
  }
}
