import type { Store } from '../../core/store/store.ts';
import type { Notification } from '../../ipc/protocol.ts';
import type { Enqueue } from '../bus/sender.ts';
import type { ExecJobs } from '../exec-jobs.ts';
import type { NetworkKeyRotation } from '../identity/rotation-daemon.ts';
import type { OutgoingExecs } from '../outgoing-execs.ts';
import type { Pings } from '../pings.ts';
import type { HistorySync } from '../sync/engine.ts';
import { ackHandler } from './ack.ts';
import { execHandler } from './exec.ts';
import { execCancelHandler } from './exec-cancel.ts';
import { execChunkHandler } from './exec-chunk.ts';
import { execResultHandler } from './exec-result.ts';
import { historyBatchHandler } from './history-batch.ts';
import { msgHandler } from './msg.ts';
import { networkKeyHandler } from './network-key.ts';
import { pingHandler } from './ping.ts';
import { pongHandler } from './pong.ts';
import { syncRequestHandler } from './sync-request.ts';
import type { HandlerTable } from './types.ts';

export interface HandlerDeps {
  store: Store;
  enqueue: Enqueue;
  clock(): number;
  notify(n: Notification): void;
  jobs: ExecJobs;
  outgoing: OutgoingExecs;
  pings: Pings;
  sync: Pick<HistorySync, 'apply'>;
  rotation: NetworkKeyRotation;
}

/** The daemon's handlers, one per message type of schemas/messages.ts. */
export function handlerTable(d: HandlerDeps): HandlerTable {
  return {
    exec: execHandler(d),
    'exec-cancel': execCancelHandler(d),
    'exec-chunk': execChunkHandler(d),
    'exec-result': execResultHandler(d),
    msg: msgHandler(d),
    ping: pingHandler(d),
    pong: pongHandler(d),
    'history-batch': historyBatchHandler(d),
    'sync-request': syncRequestHandler(d),
    'network-key': networkKeyHandler(d),
    ack: ackHandler(),
  };
}
