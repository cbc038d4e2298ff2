/**
 * Search over 1,000,000 records from 10 machines (issue 5; also issue 2's "/show history and FTS
 * search over 1,000,000 imported records"): median and p99 of a word, prefix, phrase and
 * filtered query and of `/show history`, next to `grep -c` over the same commands as a text file.
 * `node --import tsx test/bench/search.bench.ts [records]`
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitArgs } from '../../node/core/args.ts';
import { type HistoryQuery, searchHistory } from '../../node/core/search/search.ts';
import { openStore, type Store } from '../../node/core/store/store.ts';
import { findSlashCommand } from '../../node/shell/commands/registry.ts';
import type { CommandContext } from '../../node/shell/commands/types.ts';
import { fmt, median, percentile } from './stats.ts';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
process.stdout.write(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} cores\n`,
);
const MACHINES = Array.from({ length: 10 }, (_, i) => `machine-${i}`);
const RUNS = 100;
const DAY = 86_400_000;

// Deterministic PRNG (mulberry32) so every run searches the same history.
let state = 20261124;
function rnd(n: number): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
}
const WORDS =
  'alpha beta gamma delta main feature fix build deploy release server client logs config data backup nginx postgres redis api web worker cache test prod staging'.split(
    ' ',
  );
const w = () => WORDS[rnd(WORDS.length)]! + (rnd(4) === 0 ? String(rnd(1000)) : '');
const TEMPLATES: (() => string)[] = [
  () => 'git status',
  () => `git commit -m "${w()} ${w()}"`,
  () => `git checkout ${w()}`,
  () => `git push origin ${w()}`,
  () => `git log --oneline -${rnd(50)}`,
  () => `ls -la /home/user/${w()}`,
  () => `cd ~/src/${w()}`,
  () => `docker run -it --rm ${w()}:${rnd(20)}`,
  () => 'docker ps -a',
  () => `kubectl get pods -n ${w()}`,
  () => `ssh ${w()}.example.org`,
  () => `npm run ${w()}`,
  () => `npm install ${w()}-${w()}`,
  () => `grep -rn ${w()} src/`,
  () => `vim src/${w()}/${w()}.ts`,
  () => `make -j${rnd(16)} ${w()}`,
  () => `systemctl restart ${w()}`,
  () => `curl -s https://${w()}.example.com/${w()}`,
  () => `tail -f /var/log/${w()}.log`,
  () => `python3 manage.py ${w()}`,
];

function build(store: Store, file: string): number {
  const start = performance.now();
  const insert = store.db.prepare(
    `INSERT INTO commands(origin, seq, ts, command, cwd, exit, duration_ms, machine_id, source)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'import')`,
  );
  const seqs = new Map<string, number>();
  const lines: string[] = [];
  const from = Date.now() - 365 * DAY;
  store.db.transaction(() => {
    for (let i = 0; i < RECORDS; i++) {
      const origin = MACHINES[rnd(MACHINES.length)]!;
      const seq = (seqs.get(origin) ?? 0) + 1;
      seqs.set(origin, seq);
      const command = TEMPLATES[rnd(TEMPLATES.length)]!();
      lines.push(command);
      const ts = from + Math.floor((i / RECORDS) * 365 * DAY);
      insert.run(
        origin,
        seq,
        ts,
        command,
        `/home/user/${WORDS[rnd(8)]}`,
        rnd(10) === 0 ? 1 : 0,
        rnd(2000),
        origin,
      );
    }
  })();
  writeFileSync(file, `${lines.join('\n')}\n`);
  return performance.now() - start;
}

function measure(fn: () => unknown): { median: number; p99: number } {
  for (let i = 0; i < 5; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return { median: median(times), p99: percentile(times, 99) };
}

function grepMs(args: string[], file: string): { median: number; count: number } {
  const times: number[] = [];
  let count = 0;
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const r = spawnSync('grep', [...args, file], { encoding: 'utf8' });
    times.push(performance.now() - t0);
    count = Number(r.stdout.trim());
  }
  return { median: median(times), count };
}

function slashRunner(store: Store): (line: string) => void {
  const ctx: CommandContext = {
    store,
    env: { HOME: '/home/user' },
    assumeYes: false,
    io: { out: () => {}, err: () => {}, isTTY: true, columns: 120, confirm: async () => false },
  };
  return (line) => {
    const found = findSlashCommand(splitArgs(line.slice(1)));
    if (!found) throw new Error(`no command ${line}`);
    void found.command.run(found.args, ctx);
  };
}

const home = mkdtempSync(join(tmpdir(), 'isaac-bench-search-'));
try {
  const store = openStore(home);
  const textFile = join(home, 'commands.txt');
  const buildMs = build(store, textFile);
  process.stdout.write(
    `built ${RECORDS.toLocaleString('en')} records from ${MACHINES.length} machines in ${fmt(buildMs / 1000, 1)} s (${Math.round(RECORDS / (buildMs / 1000)).toLocaleString('en')} records/s, one transaction, FTS triggers on)\n\n`,
  );
  const since = Date.now() - 30 * DAY;
  const queries: [string, HistoryQuery, string[]][] = [
    ['word      nginx', { text: 'nginx' }, ['-c', 'nginx']],
    ['prefix    ngi*', { text: 'ngi*' }, ['-c', '-E', '\\bngi']],
    ['phrase    "git checkout"', { text: '"git checkout"' }, ['-c', 'git checkout']],
    ['two words docker run', { text: 'docker run' }, ['-c', '-E', 'docker.*\\brun']],
    [
      'filtered  nginx --machine machine-3 --failed --since 30d',
      { text: 'nginx', machine: 'machine-3', failed: true, since },
      [],
    ],
    ['filtered  git --machine machine-3 --failed', { text: 'git', machine: 'machine-3', failed: true }, []],
  ];
  const out: string[] = [];
  const row = (label: string, m: { median: number; p99: number }, extra = '') =>
    out.push(
      `${label.padEnd(58)} median ${fmt(m.median).padStart(7)} ms   p99 ${fmt(m.p99).padStart(7)} ms${extra}\n`,
    );
  out.push(`searchHistory (limit 20), ${RUNS} runs each:\n`);
  for (const [label, query, grep] of queries) {
    const m = measure(() => searchHistory(store, query));
    let extra = '';
    if (grep.length > 0) {
      const g = grepMs(grep, textFile);
      extra = `   grep ${grep.slice(1).join(' ')}: ${fmt(g.median)} ms (${g.count.toLocaleString('en')} lines), ${fmt(g.median / m.median, 1)}x`;
    }
    row(label, m, extra);
  }
  out.push('\nthrough the slash commands (parsing, ranking, distinct, formatting):\n');
  const slash = slashRunner(store);
  for (const line of [
    '/search nginx',
    '/search ngi*',
    '/search nginx --machine machine-3 --failed --since 30d',
    '/show history',
    '/show history 20 --machine machine-7',
  ]) {
    row(
      line,
      measure(() => slash(line)),
    );
  }
  row(
    'store.history.recent(20)',
    measure(() => store.history.recent(20)),
  );
  process.stdout.write(out.join(''));
  store.close();
} finally {
  rmSync(home, { recursive: true, force: true });
}
