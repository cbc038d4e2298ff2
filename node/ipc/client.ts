import { connect, type Socket } from 'node:net';
import { NetworkError, UsageError } from '../../schemas/errors.ts';
import { paths } from '../core/paths.ts';
import { readJsonLines, writeJsonLine } from './lines.ts';
import type {
  ConfirmAsk,
  ConfirmClosed,
  ExecEvent,
  IpcResponse,
  MachineStatus,
  NodeStatus,
  Notification,
  QueuedWhy,
  SyncPeerCounts,
  SyncRequestOptions,
  SyncSummary,
} from './protocol.ts';

export type {
  ConfirmAsk,
  ConfirmClosed,
  ExecEvent,
  MachineStatus,
  NodeStatus,
  Notification,
  QueuedWhy,
  SyncPeerCounts,
  SyncRequestOptions,
  SyncSummary,
} from './protocol.ts';

/** What a shell that answers tier-3 questions hears (NodeClient.registerConfirmer). */
export interface ConfirmListener {
  ask(ask: ConfirmAsk): void;
  closed(closed: ConfirmClosed): void;
}

/** The one line every program prints when it needs this machine's isaac-node and none answers. */
export const DAEMON_NOT_RUNNING =
  'isaac-node is not running on this machine: start it with `isaac-node start` (or `systemctl --user start isaac-node`)';

export interface ExecRequestOptions {
  /** a name, comma list, glob (`web*`) or `all` */
  targets: string;
  cmd: string;
  timeoutMs?: number;
  ttlMs?: number;
}

export interface ExecHandle {
  /** resolves after the `done` event */
  done: Promise<void>;
  /** asks every target still running to stop (Ctrl-C) */
  cancel(): void;
}

/** A local shell's connection to its machine's isaac-node. */
export class NodeClient {
  private nextRid = 1;
  private readonly handlers = new Map<number, (r: IpcResponse) => void>();
  private readonly notificationListeners = new Set<(n: Notification) => void>();
  private confirmer: ConfirmListener | undefined;
  private closed = false;

  constructor(private readonly socket: Socket) {
    readJsonLines(socket, (value) => {
      const r = value as IpcResponse;
      if (r.event === 'notification') {
        const { event: _e, ...n } = r;
        for (const cb of this.notificationListeners) cb(n);
        return;
      }
      if (r.event === 'confirm-ask') return this.confirmer?.ask(r.ask);
      if (r.event === 'confirm-closed') return this.confirmer?.closed({ id: r.id, outcome: r.outcome });
      this.handlers.get(r.rid)?.(r);
    });
    socket.on('close', () => {
      this.closed = true;
      for (const [rid, handler] of this.handlers)
        handler({ rid, event: 'fail', message: 'isaac-node closed the connection' });
      this.handlers.clear();
    });
    socket.on('error', () => {});
  }

  get connected(): boolean {
    return !this.closed;
  }

  exec(options: ExecRequestOptions, onEvent: (event: ExecEvent) => void): ExecHandle {
    const rid = this.nextRid++;
    const done = new Promise<void>((resolve) => {
      this.handlers.set(rid, (r) => {
        if (r.event === 'fail') {
          onEvent({ event: 'error', message: r.message });
          onEvent({ event: 'done' });
        } else {
          onEvent(r as ExecEvent);
        }
        if (r.event === 'done' || r.event === 'fail') {
          this.handlers.delete(rid);
          resolve();
        }
      });
    });
    this.send({ rid, op: 'exec', ...options });
    return {
      done,
      cancel: () => this.send({ rid: this.nextRid++, op: 'cancel', execRid: rid }),
    };
  }

  /**
   * Resolves once the message is in the outbox; `online` says whether the target is reachable now,
   * and when it is not, `why` (target offline, broker unreachable, login refused).
   */
  async msg(target: string, text: string): Promise<{ online: boolean; why?: QueuedWhy; detail?: string }> {
    const r = await this.request({ op: 'msg', target, text });
    if (r.event !== 'ok') return { online: false };
    return {
      online: r.online === true,
      ...(r.why ? { why: r.why } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
    };
  }

  async status(target: string): Promise<MachineStatus> {
    const r = await this.request({ op: 'status', target });
    if (r.event !== 'status') throw new NetworkError('unexpected answer from isaac-node');
    return r.status;
  }

  async nodeStatus(): Promise<NodeStatus> {
    const r = await this.request({ op: 'node-status' });
    if (r.event !== 'node-status') throw new NetworkError('unexpected answer from isaac-node');
    return r.status;
  }

  /** A catch-up round with every peer; `onProgress` hears per-peer counts as they change. */
  sync(
    options: SyncRequestOptions,
    onProgress: (peers: Record<string, SyncPeerCounts>) => void = () => {},
  ): Promise<SyncSummary> {
    const rid = this.nextRid++;
    return new Promise((resolve, reject) => {
      this.handlers.set(rid, (r) => {
        if (r.event === 'sync-progress') return onProgress(r.peers);
        this.handlers.delete(rid);
        if (r.event === 'sync-done') resolve(r.summary);
        else if (r.event === 'fail') reject(new NetworkError(r.message));
        else reject(new NetworkError('unexpected answer from isaac-node'));
      });
      try {
        this.send({ rid, op: 'sync', ...options });
      } catch (err) {
        this.handlers.delete(rid);
        reject(err);
      }
    });
  }

  /**
   * Makes this connection one of the shells the daemon asks about tier-3 remote commands (an
   * interactive terminal only: a person must type the answer). Resolves once registered.
   */
  async registerConfirmer(listener: ConfirmListener): Promise<void> {
    this.confirmer = listener;
    await this.request({ op: 'confirmer' });
  }

  /** A person's answer; false when the question was already closed (timed out, answered elsewhere). */
  async answerConfirm(id: string, yes: boolean): Promise<boolean> {
    const r = await this.request({ op: 'confirm-answer', id, yes }).catch(() => undefined);
    return r?.event === 'ok';
  }

  onNotification(cb: (n: Notification) => void): () => void {
    this.notificationListeners.add(cb);
    return () => this.notificationListeners.delete(cb);
  }

  close(): void {
    this.closed = true;
    this.socket.end();
    this.socket.destroy();
  }

  private send(value: object): void {
    if (this.closed)
      throw new NetworkError('isaac-node is not connected', { hint: 'start it with `isaac-node start`' });
    writeJsonLine(this.socket, value);
  }

  private request(body: object): Promise<IpcResponse> {
    const rid = this.nextRid++;
    return new Promise((resolve, reject) => {
      this.handlers.set(rid, (r) => {
        this.handlers.delete(rid);
        if (r.event === 'fail') reject(new UsageError(r.message));
        else resolve(r);
      });
      try {
        this.send({ rid, ...body });
      } catch (err) {
        this.handlers.delete(rid);
        reject(err);
      }
    });
  }
}

/** Connects to $home/node.sock; undefined when no daemon is running there. */
export async function connectNode(home: string, timeoutMs = 1000): Promise<NodeClient | undefined> {
  const socket = connect(paths.nodeSocket(home));
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ok) {
    socket.destroy();
    return undefined;
  }
  return new NodeClient(socket);
}
