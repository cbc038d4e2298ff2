/**
 * Search over 1,000,000 records from 10 machines. Issue 15's figures, each alternated ABAB with
 * its reference in the same run: `/search WORD` as a whole process (`isaac -c '/search nginx'`)
 * against `node -e 0`, and in process (what /search runs: searchHistory, distinct, limit 20)
 * against a bare FTS5 "newest 20 matches" query on the same database. Then issue 5's table:
 * median and p99 of a word, prefix, phrase and filtered query and of `/show history`, next to
 * `grep -c` over the same commands as a text file.
 * `node --import tsx test/bench/search.bench.ts [records]`
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitArgs } from '../../node/core/args.ts';
import { type HistoryQuery, searchHistory } from '../../node/core/search/search.ts';
import { openStore, type Store } from '../../node/core/store/store.ts';
import { findSlashCommand } from '../../node/shell/commands/registry.ts';
import type { CommandContext } from '../../node/shell/commands/types.ts';
import { ISAAC_BIN } from '../helpers/isaac.ts';
import { alternate, figure, fmt, median, percentile, say } from './stats.ts';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
/** The word of the figures: in 3% of the records, and with its implicit prefix (`nginx*`) also in nginx123. */
const WORD = 'nginx';
say(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} cores`,
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

/** Issue 15's two figures: the search in process and as a whole `isaac -c` process. */
async function figures(store: Store, home: string): Promise<void> {
  const RUNS_IN = 400;
  const bare = store.db
    .prepare<[string], [number, number, string]>(
      `SELECT c.id, c.ts, c.command FROM commands_fts JOIN commands c ON c.id = commands_fts.rowid
       WHERE commands_fts MATCH ? ORDER BY commands_fts.rowid DESC LIMIT 20`,
    )
    .raw();
  const bareIds = store.db
    .prepare<[string], number>(
      'SELECT rowid FROM commands_fts WHERE commands_fts MATCH ? ORDER BY rowid DESC LIMIT 20',
    )
    .pluck();
  const slashQuery = { text: WORD, distinct: true, limit: 20 }; // what `/search WORD` asks
  for (let i = 0; i < 20; i++) {
    searchHistory(store, slashQuery);
    bare.all(WORD);
  }
  const inProcess = await alternate(
    RUNS_IN,
    async () => searchHistory(store, slashQuery),
    async () => bare.all(WORD),
  );
  const every = await alternate(
    RUNS_IN,
    async () => searchHistory(store, { text: WORD }),
    async () => bareIds.all(WORD),
  );
  say(
    `in process, ${RUNS_IN} runs each alternated: searchHistory("${WORD}", distinct, limit 20) ` +
      `median ${fmt(median(inProcess.a), 3)} ms; bare FTS5 MATCH '${WORD}' newest 20 with their commands ` +
      `${fmt(median(inProcess.b), 3)} ms; without distinct (/search --every) ${fmt(median(every.a), 3)} ms; ` +
      `bare newest 20 rowids only ${fmt(median(every.b), 3)} ms`,
  );
  figure({
    name: 'search.inprocess.vs_fts',
    value: median(inProcess.a),
    unit: 'ms',
    reference: median(inProcess.b),
    referenceLabel: 'bare FTS5 newest 20',
    goal: '<= 3x',
  });

  const RUNS_PROC = 30;
  mkdirSync(join(home, 'home'), { recursive: true });
  const env = { ...process.env, ISAAC_HOME: home, HOME: join(home, 'home') };
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  };
  const line = `/search ${WORD}`;
  for (let i = 0; i < 3; i++) run([ISAAC_BIN, '-c', line]); // code cache, page cache
  const proc = await alternate(
    RUNS_PROC,
    async () => run([ISAAC_BIN, '-c', line]),
    async () => run(['-e', '0']),
  );
  say(
    `whole process, ${RUNS_PROC} runs each alternated: isaac -c '${line}' median ${fmt(median(proc.a))} ms ` +
      `(min ${fmt(Math.min(...proc.a))}), node -e 0 median ${fmt(median(proc.b))} ms (min ${fmt(Math.min(...proc.b))})`,
  );
  figure({
    name: 'search.process.vs_node',
    value: median(proc.a),
    unit: 'ms',
    reference: median(proc.b),
    referenceLabel: 'node -e 0',
    goal: '<= 1.6x',
  });
}

const home = mkdtempSync(join(tmpdir(), 'isaac-bench-search-'));
try {
  let store = openStore(home);
  const textFile = join(home, 'commands.txt');
  const buildMs = build(store, textFile);
  say(
    `built ${RECORDS.toLocaleString('en')} records from ${MACHINES.length} machines in ${fmt(buildMs / 1000, 1)} s (${Math.round(RECORDS / (buildMs / 1000)).toLocaleString('en')} records/s, one transaction, FTS triggers on)\n`,
  );
  // as a history that grew over time: checkpointed, opened afresh
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  store = openStore(home);
  await figures(store, home);
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
  out.push(`\nsearchHistory (limit 20), ${RUNS} runs each:\n`);
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
  say(out.join(''));
  store.close();
} finally {
  rmSync(home, { recursive: true, force: true });
}
