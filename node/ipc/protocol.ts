import type { MachineView } from '../core/store/machines.ts';

/**
 * The local socket protocol between `isaac` shells and `isaac-node`: one JSON object per line.
 * Requests carry a client-chosen `rid`; every event for it echoes that `rid`.
 * Notifications (incoming !msg, late exec results) have no `rid` and go to every client.
 */
export type IpcRequest =
  | { rid: number; op: 'exec'; targets: string; cmd: string; timeoutMs?: number; ttlMs?: number }
  | { rid: number; op: 'cancel'; execRid: number }
  | { rid: number; op: 'msg'; target: string; text: string }
  | { rid: number; op: 'status'; target: string }
  | { rid: number; op: 'node-status' }
  /** an interactive shell that can answer tier-3 questions (`confirm-ask` events follow) */
  | { rid: number; op: 'confirmer' }
  | { rid: number; op: 'confirm-answer'; id: string; yes: boolean }
  | ({ rid: number; op: 'sync' } & SyncRequestOptions);

/** `/sync`, `/sync force` and `!query`: a catch-up round with every peer, run by the daemon. */
export interface SyncRequestOptions {
  /** re-run catch-up from zero (both directions) */
  force?: boolean;
  /** settled once nothing arrived for this long (default 1000 ms) */
  quietMs?: number;
  /** give up waiting after this long (default 60 s); the summary then says settled: false */
  timeoutMs?: number;
}

export interface SyncPeerCounts {
  sent: number;
  received: number;
}

export interface SyncPeerSummary extends SyncPeerCounts {
  /** the peer's retained status said online while we were connected */
  online: boolean;
  /** it answered a ping sent after our catch-up request, so it has seen the request */
  answered: boolean;
}

export interface SyncSummary {
  /** false: nothing could be asked, the daemon has no broker connection */
  connected: boolean;
  force: boolean;
  /** false: it stopped on timeoutMs while records were still moving */
  settled: boolean;
  durationMs: number;
  peers: Record<string, SyncPeerSummary>;
}

export type ExecEvent =
  /** the request for `target` is sealed and in the outbox; `online` says whether it can run now */
  | { event: 'sent'; target: string; online: boolean }
  /** queued, not sent now: `why` says whether the target is offline or this machine cannot reach the broker */
  | { event: 'queued'; target: string; why?: QueuedWhy; detail?: string }
  | { event: 'chunk'; target: string; stream: 'stdout' | 'stderr'; data: string }
  | {
      event: 'result';
      target: string;
      exit: number;
      durationMs: number;
      error?: string;
      refused?: { reason: string; tier: number };
    }
  | { event: 'error'; target?: string; message: string }
  /** every target has a result or was queued: nothing more comes for this request */
  | { event: 'done' };

/**
 * Why a request waits in the outbox: the target is offline, this machine has no broker connection
 * (the broker is unreachable), or the broker refuses this machine's login.
 */
export type QueuedWhy = 'offline' | 'broker-unreachable' | 'login-refused';

/** node/core/identity/login-status.ts: why the broker does not let this machine in. */
export interface LoginProblemView {
  state: 'revoked' | 'refused' | 'unavailable';
  line: string;
  since: number;
}

export interface MachineStatus extends MachineView {
  /** the retained status payload as last received */
  retained?: Record<string, unknown>;
  /** live round trip in ms when the machine answered a ping */
  rttMs?: number;
}

export interface NodeStatus {
  name: string;
  connected: boolean;
  broker: string | undefined;
  brokers: string[];
  lastError: string | undefined;
  connectedSince: number | undefined;
  outbox: number;
  outboxByPeer: Record<string, number>;
  refusals: Record<string, number>;
  /** set while the broker refuses this machine's login (revoked, bad credentials, throttled) */
  login?: LoginProblemView;
  runningExecs: number;
  /** interactive isaac shells open here that can type the yes a tier-3 remote command needs */
  confirmShells?: number;
  version: string;
  pid: number;
}

/**
 * A tier-3 command another machine asks to run here (node/daemon/remote/confirm.ts): shown to a
 * person exactly as it would run, with its sender; a `y` typed in reply runs it.
 */
export interface ConfirmAsk {
  /** made by this machine's daemon; nothing from the network knows it */
  id: string;
  from: string;
  cmd: string;
  tier: number;
  /** what the tiers say it does */
  reason: string;
  /** it is refused if no answer comes within this */
  timeoutMs: number;
}

/** The question is over: answered here or in another shell, timed out, withdrawn by the sender, or every shell asked closed. */
export interface ConfirmClosed {
  id: string;
  outcome: 'yes' | 'no' | 'timeout' | 'withdrawn' | 'closed';
}

export interface Notification {
  kind: 'msg' | 'exec-result';
  from: string;
  text: string;
  ts: number;
  messageId?: number;
}

export type IpcResponse =
  | ({ rid: number } & ExecEvent)
  | { rid: number; event: 'ok'; queued?: boolean; online?: boolean; why?: QueuedWhy; detail?: string }
  | { rid: number; event: 'status'; status: MachineStatus }
  | { rid: number; event: 'node-status'; status: NodeStatus }
  | { rid: number; event: 'fail'; message: string }
  | { rid: number; event: 'sync-progress'; peers: Record<string, SyncPeerCounts> }
  | { rid: number; event: 'sync-done'; summary: SyncSummary }
  | ({ event: 'notification' } & Notification)
  | { event: 'confirm-ask'; ask: ConfirmAsk }
  | ({ event: 'confirm-closed' } & ConfirmClosed);
