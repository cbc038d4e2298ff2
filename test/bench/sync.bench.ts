/**
 * History sync figures (issue 5): throughput of 100,000 records from insert on A to rows on B
 * through a real broker (in-process Aedes, real MQTT, sealed envelopes, SQLite on both ends),
 * and live latency from a command recorded on A to it being searchable on B.
 * `node --import tsx test/bench/sync.bench.ts [records]`
 */
import { cpus, loadavg } from 'node:os';
import { searchHistory } from '../../node/core/search/search.ts';
import { makeKeys, startPlainBroker } from '../helpers/bus-nodes.ts';
import { startSyncNode } from '../helpers/sync-node.ts';
import { fmt, median, percentile } from './stats.ts';

const RECORDS = Number(process.argv[2] ?? 100_000);
process.stdout.write(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} cores\n`,
);
const LATENCY_SAMPLES = 30;

const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) };

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

try {
  const broker = await startPlainBroker(t);
  const a = makeKeys('bench-a');
  const b = makeKeys('bench-b');
  const na = await startSyncNode(t, a, [a, b], broker.url, undefined, {
    pollMs: 250,
    maxPayloadBytes: 256 * 1024,
  });
  const nb = await startSyncNode(t, b, [a, b], broker.url, undefined, {
    pollMs: 250,
    maxPayloadBytes: 256 * 1024,
  });
  await until(() => na.session.state.connected && nb.session.state.connected, 10_000, 'connect');
  await new Promise((r) => setTimeout(r, 300));

  const commands = Array.from({ length: RECORDS }, (_, i) => ({
    command: `make -j8 target-${i} && ./run --case ${i % 977}`,
    cwd: `/home/user/src/project-${i % 13}`,
    exit: i % 9 === 0 ? 1 : 0,
    durationMs: i % 5000,
    ts: Date.now() - (RECORDS - i) * 1000,
  }));
  const start = performance.now();
  na.store.history.recordMany(commands);
  const inserted = performance.now() - start;
  await until(() => nb.store.history.count() >= RECORDS, 600_000, 'all records on B');
  const total = performance.now() - start;
  process.stdout.write(
    `throughput: ${RECORDS.toLocaleString('en')} records A -> broker -> B in ${fmt(total / 1000, 2)} s = ${Math.round(RECORDS / (total / 1000)).toLocaleString('en')} records/s (insert on A ${fmt(inserted)} ms; aim > 10,000/s)\n`,
  );

  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const word = `probe${i}x${Date.now().toString(36)}`;
    const t0 = performance.now();
    na.store.history.record({ command: `echo ${word}`, exit: 0 });
    await until(
      () => searchHistory(nb.store, { text: word, limit: 1 }).length === 1,
      10_000,
      'probe searchable',
    );
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 37 + (i % 5) * 41));
  }
  process.stdout.write(
    `live latency (recorded on A -> searchable on B, ${LATENCY_SAMPLES} samples, 250 ms poll): median ${fmt(median(latencies))} ms, p99 ${fmt(percentile(latencies, 99))} ms (aim < 500 ms)\n`,
  );
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
