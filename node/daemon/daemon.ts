import type { IClientOptions } from 'mqtt';
import { EnvelopeError } from '../../schemas/envelope.ts';
import { errorLine, UsageError } from '../../schemas/errors.ts';
import type { ExecResult, MessageBodies, MessageType } from '../../schemas/messages.ts';
import { type InboxKind, parseTopic, topics } from '../../schemas/topics.ts';
import { machineView } from '../core/store/machines.ts';
import { sealedRow } from '../core/store/outbox.ts';
import type { Store } from '../core/store/store.ts';
import type { ExecEvent, MachineStatus, NodeStatus, Notification } from '../ipc/protocol.ts';
import type { EnvelopeCodec } from './bus/codec.ts';
import { idHex, type OpenedEnvelope } from './bus/envelope-port.ts';
import { BusSession } from './bus/session.ts';
import { ExecJobs } from './exec-jobs.ts';
import { OutgoingExecs } from './outgoing-execs.ts';
import { adoptPendingRequests, dropStaleEphemeral } from './pending-adoption.ts';
import { RefusalCounter } from './refusals.ts';
import type { Classifier } from './remote/policy.ts';
import { ownStatusPayload, parseStatusPayload } from './status-payload.ts';

/** Replies (results, pongs) live long enough for a sender that is off for a week. */
const REPLY_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const MAX_SKEW_MS = 5 * 60 * 1000;

export interface DaemonOptions {
  store: Store;
  codec: EnvelopeCodec;
  urls: readonly string[];
  connectOptions(url: string): IClientOptions;
  classify: Classifier;
  version: string;
  log(line: string): void;
  /** Verifies a retained roster payload (node/core/identity/trust.ts): the row to keep, or why not. */
  verifyRoster?(
    name: string,
    payload: Uint8Array,
  ):
    | { signPk: Uint8Array; boxPk: Uint8Array; added: number; revoked?: number | null; admin?: boolean }
    | { refused: string; detail: string }
    | undefined;
  /** This machine's own signed roster entry, re-published retained on every connect. */
  rosterPayload?(): Uint8Array | undefined;
  /** Extra retained publications on connect and on homeassistant/status "online" (HA discovery). */
  discovery?(): { topic: string; payload: string }[];
}

/**
 * A feature that rides on the daemon's delivery (history sync, network-key rotation): it gets the
 * envelopes of its types inside the seen-id transaction (`apply` may only write rows and outbox
 * entries), and hears about connects and new members.
 */
export interface DaemonExtension {
  readonly types: readonly MessageType[];
  apply(env: OpenedEnvelope): void;
  afterApply?(env: OpenedEnvelope): void;
  onConnected?(): void;
  onMemberAdded?(name: string): void;
  start?(): void;
  stop?(): void;
}

export class NodeDaemon {
  readonly session: BusSession;
  readonly refusals: RefusalCounter;
  private readonly jobs: ExecJobs;
  private readonly outgoing: OutgoingExecs;
  private readonly pings = new Map<string, (rtt: number) => void>();
  private readonly retained = new Map<string, Record<string, unknown>>();
  private readonly listeners = new Set<(n: Notification) => void>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly extensions: DaemonExtension[] = [];
  readonly me: string;

  constructor(private readonly o: DaemonOptions) {
    this.me = o.codec.me;
    this.refusals = new RefusalCounter(o.log);
    this.jobs = new ExecJobs({
      store: o.store,
      classify: o.classify,
      send: (type, to, body, corr) => this.enqueue(type, to, body, Date.now() + REPLY_TTL_MS, corr),
      log: o.log,
    });
    this.outgoing = new OutgoingExecs({
      enqueueExec: (target, body, exp) => this.enqueue('exec', target, body, exp),
      enqueueCancel: (target, corr) =>
        void this.enqueue('exec-cancel', target, {}, Date.now() + 60_000, corr),
      isOnline: (target) => this.isOnline(target),
      members: () => this.memberNames(),
      defaultTimeoutMs: () => this.o.store.config.getNumber('remote.timeout') * 1000,
    });
    this.session = new BusSession({
      name: this.me,
      urls: o.urls,
      connectOptions: o.connectOptions,
      outbox: o.store.outbox,
      statusPayload: () => ownStatusPayload(o.store, this.me, o.version),
      onConnected: (s) => {
        dropStaleEphemeral(o.store);
        const roster = o.rosterPayload?.();
        if (roster) s.publishRetained(topics.roster(this.me), roster);
        for (const d of o.discovery?.() ?? []) s.publishRetained(d.topic, d.payload);
        for (const ext of this.extensions) this.guard(() => ext.onConnected?.());
      },
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      log: o.log,
    });
  }

  /** Adds a feature before start(); see DaemonExtension. */
  use(extension: DaemonExtension): void {
    this.extensions.push(extension);
  }

  private extensionFor(type: MessageType): DaemonExtension | undefined {
    return this.extensions.find((e) => e.types.includes(type));
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log(`extension failed: ${errorLine(err)}`);
    }
  }

  start(): void {
    for (const ext of this.extensions) ext.start?.();
    adoptPendingRequests({
      store: this.o.store,
      me: this.me,
      members: () => this.memberNames(),
      msg: (target, text) => this.msg(target, text),
      enqueueExec: (target, body, exp) => this.enqueue('exec', target, body, exp),
      track: (id, target, cmd) => this.outgoing.track(id, target, cmd),
      log: this.o.log,
    });
    this.session.start();
    this.heartbeat = setInterval(() => {
      this.session.publishStatus();
      this.o.store.seenIds.purge();
    }, 30_000);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const ext of this.extensions) this.guard(() => ext.stop?.());
    this.jobs.cancelAll();
    await this.session.stop();
  }

  onNotification(cb: (n: Notification) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  // ---- requests from local shells -------------------------------------------------------------

  /** Starts `cmd` on every target; events stream to `emit`. Returns a cancel function. */
  exec(
    spec: string,
    cmd: string,
    options: { timeoutMs?: number; ttlMs?: number },
    emit: (event: ExecEvent) => void,
  ): () => void {
    return this.outgoing.start(spec, cmd, options, emit);
  }

  msg(target: string, text: string): { online: boolean } {
    if (!this.memberNames().includes(target)) {
      throw new UsageError(`${target} is not a member of this network`, { hint: 'see /show machines' });
    }
    const id = this.enqueue('msg', target, { text }, Date.now() + REPLY_TTL_MS);
    this.o.store.messages.add({
      envelopeId: id,
      direction: 'out',
      peer: target,
      kind: 'msg',
      body: text,
      shown: true,
    });
    return { online: this.isOnline(target) };
  }

  async machineStatus(target: string, pingTimeoutMs = 3000): Promise<MachineStatus> {
    const row = this.o.store.machines.get(target);
    if (!row) throw new UsageError(`unknown machine ${target}`, { hint: 'see /show machines' });
    const status: MachineStatus = machineView(row);
    const retained = this.retained.get(target);
    if (retained) status.retained = retained;
    if (row.status === 'online' && this.session.state.connected && row.box_pk && row.revoked === null) {
      const started = performance.now();
      const id = this.enqueue('ping', target, {}, Date.now() + pingTimeoutMs);
      const rtt = await new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.pings.delete(idHex(id));
          resolve(undefined);
        }, pingTimeoutMs);
        this.pings.set(idHex(id), () => {
          clearTimeout(timer);
          resolve(performance.now() - started);
        });
      });
      if (rtt !== undefined) status.rttMs = Math.round(rtt * 10) / 10;
    }
    return status;
  }

  nodeStatus(): NodeStatus {
    const s = this.session.state;
    return {
      name: this.me,
      connected: s.connected,
      broker: s.broker,
      brokers: [...this.o.urls],
      lastError: s.lastError,
      connectedSince: s.connected ? s.lastConnectedAt : undefined,
      outbox: this.o.store.outbox.count(),
      outboxByPeer: this.o.store.outbox.countByPeer(),
      refusals: this.refusals.snapshot(),
      runningExecs: this.jobs.running(),
      version: this.o.version,
      pid: process.pid,
    };
  }

  // ---- outgoing ------------------------------------------------------------------------------

  /** Seals, writes to the outbox, and publishes when connected. Returns the envelope id. */
  enqueue<K extends MessageType>(
    type: K,
    to: string,
    body: MessageBodies[K],
    exp: number,
    corr?: Uint8Array,
  ): Uint8Array {
    const sealed = this.o.codec.seal({ type, to, body, exp, ...(corr ? { corr } : {}) });
    const row = sealedRow(sealed, type, to);
    this.o.store.outbox.add(row);
    this.session.send(row);
    return sealed.id;
  }

  // ---- incoming ------------------------------------------------------------------------------

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    if (topic === topics.haStatus) {
      if (payload.toString() === 'online')
        for (const d of this.o.discovery?.() ?? []) this.session.publishRetained(d.topic, d.payload);
      return;
    }
    const parsed = parseTopic(topic);
    if (!parsed) return this.refusals.refuse('unknown-topic', topic);
    if (parsed.kind === 'status') return this.onStatus(parsed.machine, payload);
    if (parsed.kind === 'roster') return this.onRoster(parsed.machine, payload);
    if (parsed.machine !== this.me) return this.refusals.refuse('topic-mismatch', `message on ${topic}`);
    this.onEnvelope(parsed.kind, payload);
  }

  private onStatus(name: string, payload: Buffer): void {
    if (payload.length === 0) return;
    const status = parseStatusPayload(payload);
    if (!status) return this.refusals.refuse('bad-status', `unreadable status of ${name}`);
    this.retained.set(name, status.raw);
    this.o.store.machines.applyStatus(name, status.update);
  }

  private onRoster(name: string, payload: Buffer): void {
    if (payload.length === 0 || !this.o.verifyRoster) return;
    const entry = this.o.verifyRoster(name, payload);
    if (!entry || 'refused' in entry)
      return this.refusals.refuse(
        entry?.refused ?? 'bad-roster',
        entry?.detail ?? `roster entry for ${name}`,
      );
    const wasMember = this.memberNames().includes(name);
    this.o.store.machines.applyRoster({ name, ...entry });
    if (!wasMember && this.memberNames().includes(name)) {
      for (const ext of this.extensions) this.guard(() => ext.onMemberAdded?.(name));
    }
  }

  private onEnvelope(kind: InboxKind, payload: Buffer): void {
    let env: OpenedEnvelope;
    try {
      env = this.o.codec.open(payload, this.me, kind);
    } catch (err) {
      const reason = err instanceof EnvelopeError ? err.reason : 'malformed';
      return this.refusals.refuse(reason, `${payload.length}-byte payload on ${kind}: ${errorLine(err)}`);
    }
    const now = Date.now();
    const seen = this.o.store.seenIds;
    const what = `${env.type} ${idHex(env.id).slice(0, 8)} from ${env.from}`;
    if (seen.has(env.id)) return this.refusals.refuse('replay', `${what} was already received`);
    if (env.ts > now + MAX_SKEW_MS)
      return this.refusals.refuse('from-future', `${what} sent ${env.ts - now} ms in the future`);
    if (env.exp <= now) {
      this.refusals.refuse('expired', `${what} expired ${now - env.exp} ms ago`);
      if (env.type === 'exec') {
        this.o.store.db.transaction(() => {
          seen.add(env.id, env.exp + MAX_SKEW_MS);
          const result: ExecResult = {
            exit: 125,
            durationMs: 0,
            refused: { reason: 'request expired before it could run', tier: 1 },
          };
          this.enqueue('exec-result', env.from, result, now + REPLY_TTL_MS, env.id);
        })();
      }
      return;
    }
    try {
      this.o.store.db.transaction(() => {
        seen.add(env.id, env.exp + MAX_SKEW_MS);
        this.apply(env);
      })();
    } catch (err) {
      // nothing of it was applied; acknowledge it anyway so one bad envelope cannot loop forever
      // (if even this write fails the database is unwell: throwing leaves it unacknowledged)
      seen.add(env.id, env.exp + MAX_SKEW_MS);
      return this.refusals.refuse('apply-failed', `${what}: ${errorLine(err)}`);
    }
    this.afterApply(env);
  }

  /** Runs inside the seen-id transaction: only database writes and outbox rows here. */
  private apply(env: OpenedEnvelope): void {
    const store = this.o.store;
    const extension = this.extensionFor(env.type);
    if (extension) return extension.apply(env);
    switch (env.type) {
      case 'msg': {
        const body = env.body as MessageBodies['msg'];
        store.messages.add({
          envelopeId: env.id,
          direction: 'in',
          peer: env.from,
          kind: 'msg',
          body: body.text,
          ts: env.ts,
        });
        break;
      }
      case 'ping':
        this.enqueue('pong', env.from, {}, Math.min(env.exp, Date.now() + 60_000), env.id);
        break;
      case 'exec':
        this.jobs.admit(env);
        break;
      case 'exec-result': {
        const text = this.outgoing.lateResultText(env);
        if (text !== undefined) {
          store.messages.add({
            envelopeId: env.id,
            direction: 'in',
            peer: env.from,
            kind: 'exec-result',
            body: text,
            ts: env.ts,
          });
        }
        break;
      }
      default:
        break;
    }
  }

  /** Side effects after the transaction committed: start processes, tell the shells. */
  private afterApply(env: OpenedEnvelope): void {
    const extension = this.extensionFor(env.type);
    if (extension) return this.guard(() => extension.afterApply?.(env));
    switch (env.type) {
      case 'msg': {
        const text = (env.body as MessageBodies['msg']).text;
        this.notify({ kind: 'msg', from: env.from, text, ts: env.ts });
        break;
      }
      case 'exec':
        this.jobs.start(env);
        break;
      case 'exec-cancel':
        if (env.corr) this.jobs.cancel(env.from, env.corr);
        break;
      case 'pong':
        if (env.corr) this.pings.get(idHex(env.corr))?.(0);
        break;
      case 'exec-chunk':
        this.outgoing.onChunk(env);
        break;
      case 'exec-result': {
        const text = this.outgoing.onResult(env);
        if (text !== undefined) this.notify({ kind: 'exec-result', from: env.from, text, ts: env.ts });
        break;
      }
      default:
        break;
    }
  }

  private notify(n: Notification): void {
    for (const cb of this.listeners) cb(n);
  }

  private memberNames(): string[] {
    return this.o.store.machines.members().map((m) => m.name);
  }

  private isOnline(target: string): boolean {
    return this.session.state.connected && this.o.store.machines.get(target)?.status === 'online';
  }
}
