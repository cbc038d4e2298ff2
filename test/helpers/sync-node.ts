import type { TestContext } from 'node:test';
import type { IClientOptions } from 'mqtt';
import type { Store } from '../../node/core/store/store.ts';
import type { BusSession } from '../../node/daemon/bus/session.ts';
import { composeDaemon } from '../../node/daemon/compose.ts';
import type { HistorySync } from '../../node/daemon/sync/engine.ts';
import { identityOf, type MachineKeys, memberStore, stopWithBroker } from './bus-nodes.ts';
import { captureLogger } from './log-capture.ts';
import { tempDir } from './tmp.ts';

/**
 * isaac-node as `isaac-node start` builds it (composeDaemon), seen from its history sync: real
 * MQTT session with the SQLite outbox, the real intake (open, verify, fresh, seen-id transaction),
 * HistorySync on top. Real in-process Aedes broker or isaac-broker, real SQLite files. Only the
 * login, the logger and the sync tuning (smaller batches, faster polls, quicker reconnects) differ.
 */
export interface SyncNode {
  name: string;
  store: Store;
  sync: HistorySync;
  session: BusSession;
  logs: string[];
  stop(): Promise<void>;
}

export async function startSyncNode(
  t: Pick<TestContext, 'after'>,
  keys: MachineKeys,
  members: readonly MachineKeys[],
  url: string,
  home: string = tempDir(t),
  options: {
    pollMs?: number;
    maxPayloadBytes?: number;
    rangeSlice?: number;
    /** Login for a real isaac-broker (a fresh token per connect); default any password. */
    connectOptions?: (url: string) => IClientOptions;
  } = {},
): Promise<SyncNode> {
  const { store } = memberStore(home, keys, members);
  const { logger, lines: logs } = captureLogger();
  const node = await composeDaemon({
    store,
    identity: identityOf(keys),
    urls: [url],
    connectOptions: options.connectOptions ?? (() => ({ username: keys.name, password: 'test' })),
    version: 'test',
    logger,
    sync: {
      pollMs: options.pollMs ?? 50,
      maxPayloadBytes: options.maxPayloadBytes ?? 64 * 1024,
      ...(options.rangeSlice ? { rangeSlice: options.rangeSlice } : {}),
    },
    backoff: { minMs: 50, maxMs: 500 },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    forget();
    await node.stop();
    store.close();
  };
  const forget = stopWithBroker(stop);
  t.after(stop);
  return { name: keys.name, store, sync: node.sync, session: node.session, logs, stop };
}
