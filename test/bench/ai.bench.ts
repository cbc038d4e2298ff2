/**
 * AI figures (issue 6):
 *  - context build time with 1,000,000 records in the store (aim < 20 ms), against the bare
 *    indexed query it is built on;
 *  - time from request to first streamed token through Isaac's client against a local test server,
 *    against a bare fetch of the same server: the difference is Isaac's own overhead (aim < 30 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../node/core/store/store.ts';
import { createAssistant } from '../../node/shell/ai/assistant.ts';
import { startFakeProvider } from '../helpers/fake-providers.ts';
import { fmt, median, percentile } from './stats.ts';

const RECORDS = Number(process.env.AI_BENCH_RECORDS ?? 1_000_000);
const cleanups: (() => unknown)[] = [];
const home = mkdtempSync(join(tmpdir(), 'isaac-ai-bench-'));
cleanups.push(() => rmSync(home, { recursive: true, force: true }));

try {
  const store = openStore(home);
  cleanups.unshift(() => store.close());
  store.config.set('machine.name', 'laptop');

  const buildStart = performance.now();
  const machines = ['laptop', 'nas', 'desktop', 'pi', 'server'];
  const insert = store.db.prepare(
    `INSERT INTO commands(origin, seq, ts, command, cwd, exit, machine_id, source, synced)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'shell', 1)`,
  );
  const verbs = [
    'git status',
    'ls -la',
    'docker ps',
    'make -j4',
    'ssh nas',
    'vim notes.md',
    'cd ~/src',
    'htop',
  ];
  const base = Date.now() - RECORDS * 1000;
  store.db.transaction(() => {
    for (let i = 0; i < RECORDS; i++) {
      const origin = machines[i % machines.length]!;
      insert.run(
        origin,
        Math.floor(i / machines.length) + 1,
        base + i * 1000,
        `${verbs[i % verbs.length]} ${i}`,
        '/home/me',
        i % 7 === 0 ? 1 : 0,
        origin,
      );
    }
  })();
  process.stdout.write(
    `store: ${store.history.count()} records built in ${fmt((performance.now() - buildStart) / 1000, 1)} s\n`,
  );

  const assistant = createAssistant({ store, env: {}, cwd: () => '/home/me', shell: () => 'bash' });
  const time = (fn: () => unknown, runs: number): number[] => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      fn();
      samples.push(performance.now() - start);
    }
    return samples;
  };
  const bare = store.db.prepare(
    'SELECT origin, command, cwd, exit FROM commands ORDER BY ts DESC, id DESC LIMIT ?',
  );
  for (const [label, settings] of [
    ['default (50 commands, all machines)', { 'ai.context.size': '50', 'ai.context.machines': 'all' }],
    ['1000 commands, all machines', { 'ai.context.size': '1000', 'ai.context.machines': 'all' }],
    ['50 commands of nas,pi', { 'ai.context.size': '50', 'ai.context.machines': 'nas,pi' }],
  ] as const) {
    for (const [key, value] of Object.entries(settings)) store.config.set(key, value);
    time(() => assistant.buildContext(), 20);
    const samples = time(() => assistant.buildContext(), 200);
    const reference = time(() => bare.all(Number(settings['ai.context.size'])), 200);
    process.stdout.write(
      `context build, ${label}: median ${fmt(median(samples))} ms, p95 ${fmt(percentile(samples, 95))} ms ` +
        `(bare indexed query ${fmt(median(reference))} ms; ${assistant.buildContext().length} chars; aim < 20 ms)\n`,
    );
  }
  store.config.set('ai.context.size', '50');
  store.config.set('ai.context.machines', 'all');

  for (const kind of ['ollama', 'anthropic', 'openai'] as const) {
    const fake = await startFakeProvider({ after: (fn) => cleanups.unshift(fn) }, kind, {
      text: 'ls -la here',
    });
    store.config.set('ai.provider', kind);
    store.config.set(`ai.${kind}.base_url`, fake.baseUrl);
    const env = {
      ANTHROPIC_API_KEY: 'sk-ant-api03-bench-bench-bench-bench',
      OPENAI_API_KEY: 'sk-proj-bench-bench-bench-bench',
    };
    const client = createAssistant({ store, env, cwd: () => '/home/me', shell: () => 'bash' });
    const url =
      kind === 'anthropic'
        ? `${fake.baseUrl}/v1/messages`
        : kind === 'openai'
          ? `${fake.baseUrl}/chat/completions`
          : `${fake.baseUrl}/api/chat`;
    const isaac: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < 60; i++) {
      let first = 0;
      const start = performance.now();
      await client.ask('list files', {
        onToken: () => {
          first ||= performance.now() - start;
        },
      });
      if (i >= 10) isaac.push(first);
      const rawStart = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"stream":true}',
      });
      const reader = response.body!.getReader();
      await reader.read();
      const rawFirst = performance.now() - rawStart;
      await reader.cancel();
      if (i >= 10) raw.push(rawFirst);
    }
    const overhead = median(isaac) - median(raw);
    process.stdout.write(
      `first token, ${kind}: Isaac median ${fmt(median(isaac))} ms (p95 ${fmt(percentile(isaac, 95))}), bare fetch ${fmt(median(raw))} ms, ` +
        `Isaac's overhead ${fmt(overhead)} ms (aim < 30 ms)\n`,
    );
  }
} finally {
  for (const fn of cleanups) await fn();
}
