import type { TestContext } from 'node:test';
import type { IClientOptions } from 'mqtt';
import { sealedRow } from '../../node/core/store/outbox.ts';
import type { Store } from '../../node/core/store/store.ts';
import type { EnvelopeCodec } from '../../node/daemon/bus/codec.ts';
import { BusSession } from '../../node/daemon/bus/session.ts';
import { HistorySync } from '../../node/daemon/sync/engine.ts';
import { parseTopic } from '../../schemas/topics.ts';
import { type MachineKeys, memberStore } from './bus-nodes.ts';
import { tempDir } from './tmp.ts';

/**
 * A node wired as isaac-node wires history: real MQTT session with the SQLite outbox, envelopes
 * opened and verified by the real codec, applied with the seen id in one transaction before
 * the PUBACK, HistorySync on top. Real in-process Aedes broker, real SQLite files.
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
    /** Sees every body before it is sealed (to check what would leave the machine). */
    onSend?: (type: string, to: string, body: unknown) => void;
  } = {},
): Promise<SyncNode> {
  const { store, codec } = memberStore(home, keys, members);
  const logs: string[] = [];
  let session: BusSession | undefined;
  const sync = new HistorySync(
    store,
    {
      me: keys.name,
      peers: () => members.map((m) => m.name).filter((n) => n !== keys.name),
      enqueue: (type, to, body, exp) => {
        options.onSend?.(type, to, body);
        const sealed = codec.seal({ type, to, body, exp });
        const row = sealedRow(sealed, type, to);
        store.outbox.add(row);
        session?.send(row);
        return sealed.id;
      },
    },
    {
      log: (l) => logs.push(l),
      pollMs: options.pollMs ?? 50,
      maxPayloadBytes: options.maxPayloadBytes ?? 64 * 1024,
      ...(options.rangeSlice ? { rangeSlice: options.rangeSlice } : {}),
    },
  );
  session = new BusSession({
    name: keys.name,
    urls: [url],
    connectOptions: options.connectOptions ?? (() => ({ username: keys.name, password: 'test' })),
    outbox: store.outbox,
    statusPayload: () => ({ state: 'online', name: keys.name }),
    onConnected: () => sync.requestCatchUp(),
    onMessage: (topic, payload) => {
      const parsed = parseTopic(topic);
      if (!parsed || parsed.machine !== keys.name || parsed.kind !== 'history') return;
      let env: ReturnType<EnvelopeCodec['open']>;
      try {
        env = codec.open(payload, keys.name, 'history');
      } catch (err) {
        logs.push(`refused: ${String(err)}`);
        return;
      }
      if (store.seenIds.has(env.id)) return void logs.push('refused: replay');
      store.db.transaction(() => {
        store.seenIds.add(env.id, env.exp);
        sync.apply(env);
      })();
    },
    log: (l) => logs.push(l),
    minBackoffMs: 50,
    maxBackoffMs: 500,
  });
  session.start();
  sync.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    sync.stop();
    await session!.stop();
    store.close();
  };
  t.after(stop);
  return { name: keys.name, store, sync, session, logs, stop };
}
