import { AuthError, UsageError } from '../../schemas/errors.ts';
import { topics } from '../../schemas/topics.ts';
import { loginProblem } from '../core/identity/login-status.ts';
import { machineView } from '../core/store/machines.ts';
import type { Store } from '../core/store/store.ts';
import type { ExecEvent, MachineStatus, NodeStatus, Notification, QueuedWhy } from '../ipc/protocol.ts';
import type { Enqueue } from './bus/sender.ts';
import type { BusSession } from './bus/session.ts';
import { type ExecJobs, REPLY_TTL_MS } from './exec-jobs.ts';
import type { Extensions } from './extensions.ts';
import type { Logger } from './logger.ts';
import type { OutgoingExecs } from './outgoing-execs.ts';
import { adoptPendingRequests, dropStaleEphemeral } from './pending-adoption.ts';
import type { Pings } from './pings.ts';
import type { RefusalCounter } from './refusals.ts';
import type { RemoteConfirm } from './remote/confirm.ts';

const HEARTBEAT_MS = 30_000;

export interface DaemonParts {
  me: string;
  store: Store;
  urls: readonly string[];
  version: string;
  session: BusSession;
  enqueue: Enqueue;
  refusals: RefusalCounter;
  jobs: ExecJobs;
  outgoing: OutgoingExecs;
  pings: Pings;
  /** tier-3 remote commands waiting for a yes typed in a shell here */
  confirm: RemoteConfirm;
  extensions: Extensions;
  /** the last retained status payload of each machine (filled by the intake) */
  retained: ReadonlyMap<string, Record<string, unknown>>;
  clock(): number;
  log: Logger;
}

/**
 * isaac-node as the local shells see it (node/daemon/ipc/server.ts): `!exec`, `!msg`, `!status`,
 * node status and notifications, plus the lifecycle. Built by compose.ts; what arrives from the
 * network goes through intake.ts and handlers/.
 */
export class NodeDaemon {
  readonly me: string;
  readonly session: BusSession;
  readonly refusals: RefusalCounter;
  readonly enqueue: Enqueue;
  readonly confirm: RemoteConfirm;
  private readonly listeners = new Set<(n: Notification) => void>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly p: DaemonParts) {
    this.me = p.me;
    this.session = p.session;
    this.refusals = p.refusals;
    this.enqueue = p.enqueue;
    this.confirm = p.confirm;
  }

  start(): void {
    this.p.extensions.start();
    adoptPendingRequests({
      store: this.p.store,
      me: this.me,
      members: () => this.memberNames(),
      msg: (target, text) => this.msg(target, text),
      enqueueExec: (target, body, exp) => this.enqueue('exec', target, body, exp),
      track: (id, target, cmd) => this.p.outgoing.track(id, target, cmd),
      clock: this.p.clock,
      log: this.p.log,
    });
    dropStaleEphemeral(this.p.store, this.p.clock());
    this.session.start();
    this.heartbeat = setInterval(() => {
      this.session.publishStatus();
      this.p.store.seenIds.purge();
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.p.extensions.stop();
    this.p.jobs.cancelAll();
    await this.session.stop();
  }

  onNotification(cb: (n: Notification) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  notify(n: Notification): void {
    for (const cb of this.listeners) cb(n);
  }

  /** Starts `cmd` on every target; events stream to `emit`. Returns a cancel function (Ctrl-C). */
  exec(
    spec: string,
    cmd: string,
    options: { timeoutMs?: number; ttlMs?: number },
    emit: (event: ExecEvent) => void,
  ): () => void {
    const revoked = this.revoked();
    if (revoked) {
      emit({ event: 'error', message: `${revoked}; nothing was sent` });
      emit({ event: 'done' });
      return () => {};
    }
    return this.p.outgoing.start(spec, cmd, options, emit);
  }

  /** The line saying this machine was revoked (nothing it queues could ever be delivered). */
  private revoked(): string | undefined {
    const problem = loginProblem(this.p.store);
    return problem?.state === 'revoked' ? problem.line : undefined;
  }

  /**
   * Why a request to `target` is queued rather than sent now: the target is offline, or this
   * machine cannot reach the broker, or the broker refuses its login. undefined when it can go.
   */
  queuedWhy(target: string): { why: QueuedWhy; detail?: string } | undefined {
    if (!this.session.state.connected) {
      const problem = loginProblem(this.p.store);
      if (problem) return { why: 'login-refused', detail: problem.line };
      const error = this.session.state.lastError;
      return { why: 'broker-unreachable', ...(error ? { detail: error } : {}) };
    }
    return this.isOnline(target) ? undefined : { why: 'offline' };
  }

  msg(target: string, text: string): { online: boolean; why?: QueuedWhy; detail?: string } {
    const revoked = this.revoked();
    if (revoked) throw new AuthError(`${revoked}; nothing was sent`);
    if (!this.memberNames().includes(target)) {
      throw new UsageError(`${target} is not a member of this network`, { hint: 'see /show machines' });
    }
    const id = this.enqueue('msg', target, { text }, this.p.clock() + REPLY_TTL_MS);
    this.p.store.messages.add({
      envelopeId: id,
      direction: 'out',
      peer: target,
      kind: 'msg',
      body: text,
      shown: true,
    });
    const queued = this.queuedWhy(target);
    return queued ? { online: false, ...queued } : { online: true };
  }

  async machineStatus(target: string, pingTimeoutMs = 3000): Promise<MachineStatus> {
    const row = this.p.store.machines.get(target);
    if (!row) throw new UsageError(`unknown machine ${target}`, { hint: 'see /show machines' });
    const status: MachineStatus = machineView(row);
    const retained = this.p.retained.get(target);
    if (retained) status.retained = retained;
    if (row.status === 'online' && this.session.state.connected && row.box_pk && row.revoked === null) {
      const rtt = await this.p.pings.measure(
        () => this.enqueue('ping', target, {}, this.p.clock() + pingTimeoutMs),
        pingTimeoutMs,
      );
      if (rtt !== undefined) status.rttMs = Math.round(rtt * 10) / 10;
    }
    return status;
  }

  nodeStatus(): NodeStatus {
    const s = this.session.state;
    const login = loginProblem(this.p.store);
    return {
      name: this.me,
      connected: s.connected,
      broker: s.broker,
      brokers: [...this.p.urls],
      lastError: s.lastError,
      connectedSince: s.connected ? s.lastConnectedAt : undefined,
      outbox: this.p.store.outbox.count(),
      outboxByPeer: this.p.store.outbox.countByPeer(),
      refusals: this.refusals.snapshot(),
      ...(login ? { login } : {}),
      runningExecs: this.p.jobs.running(),
      confirmShells: this.confirm.shells,
      version: this.p.version,
      pid: process.pid,
    };
  }

  /** Re-publishes this machine's own roster entry (after a rotation made elsewhere). */
  publishRosterEntry(entry: Uint8Array): void {
    this.session.publishRetained(topics.roster(this.me), entry);
  }

  memberNames(): string[] {
    return this.p.store.machines.members().map((m) => m.name);
  }

  isOnline(target: string): boolean {
    return this.session.state.connected && this.p.store.machines.get(target)?.status === 'online';
  }
}
