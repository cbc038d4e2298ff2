/**
 * History import (issue 15): `isaac import bash FILE` of 1,000,000 lines as a whole process,
 * against the sqlite3 CLI filling the same schema with the same rows in the same batches (5,000
 * rows a transaction, one multi-row INSERT OR IGNORE each; WAL, synchronous=NORMAL,
 * temp_store=MEMORY), alternated ABAB; and isaac's peak memory (RSS). Then issue 2's figures:
 * redaction throughput, a re-import of the same file (all duplicates), search latency over the
 * imported records.
 * `node --import tsx test/bench/import.bench.ts [lines] [runs]`
 * Needs the sqlite3 CLI for the comparison (Debian: apt-get install sqlite3).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { redactSecrets } from '../../node/core/store/redact.ts';
import { openStore } from '../../node/core/store/store.ts';
import { ISAAC_BIN } from '../helpers/isaac.ts';
import { alternate, figure, fmt, median, say } from './stats.ts';

const LINES = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);
/** history-import/import.ts BATCH: the reference commits as often as isaac does. */
const BATCH = 5_000;

const ORDINARY = [
  'git status',
  'ls -la',
  'cd ~/src/project',
  'make -j4 test',
  'vim node/store/history.ts',
  'docker ps -a',
  'kubectl get pods -n default',
  'grep -rn "TODO" src/',
  'ssh -p 2222 nas.local',
  'git commit -m "fix the parser for long lines"',
  'find . -name "*.ts" | xargs wc -l',
  'sudo systemctl restart nginx',
  'npm install --save-dev typescript',
  'tar -czf backup.tgz ~/docs',
  'python3 -m http.server 8000',
  'curl -s https://example.com/api/v1/items | jq .',
];
const SECRETY = [
  'export GITHUB_TOKEN=ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  'mysql -u root -pS3cretPw db',
  'curl -H "Authorization: Bearer abc123def456ghi" https://api.local',
  'psql postgres://app:hunter2@db.local/app',
];

function redactionRate(lines: readonly string[], n = 500_000): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += redactSecrets(lines[i % lines.length]!).length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === 0) throw new Error('unreachable');
  return n / seconds;
}

/** A ~/.bash_history of `n` lines: ordinary commands, one in 50 with a secret, one in 1000 binary garbage. */
async function writeHistory(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const base = i % 50 === 0 ? SECRETY[i % SECRETY.length]! : ORDINARY[i % ORDINARY.length]!;
    const line = i % 1000 === 999 ? `bad\x01line ${i}` : `${base} #${i}`;
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

/** Runs a command to its end: wall time and peak RSS (VmHWM, read from /proc while it runs). */
function measured(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
      } catch {
        // gone between two polls
      }
    }, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms, peakMb: peakKb / 1024 });
    });
  });
}

const COLUMNS =
  'origin, seq, ts, command, output, cwd, exit, duration_ms, session, machine_id, source, kind, import_key';

/** The rows isaac stored, as the sqlite3 CLI's script: same rows, batches, pragmas and statement kind. */
async function referenceScript(db: string, script: string): Promise<number> {
  const source = new Database(db, { readonly: true });
  const out = createWriteStream(script);
  const write = async (text: string) => {
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  const quote = (v: unknown) =>
    v === null ? 'NULL' : typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v);
  await write(
    'PRAGMA journal_mode = WAL;\nPRAGMA synchronous = NORMAL;\nPRAGMA foreign_keys = ON;\nPRAGMA temp_store = MEMORY;\n',
  );
  let rows = 0;
  let batch: string[] = [];
  const flush = async () => {
    await write(
      `BEGIN IMMEDIATE;\nINSERT OR IGNORE INTO commands(${COLUMNS}) VALUES\n${batch.join(',\n')};\nCOMMIT;\n`,
    );
    batch = [];
  };
  for (const row of source.prepare(`SELECT ${COLUMNS} FROM commands ORDER BY id`).raw().iterate()) {
    batch.push(`(${(row as unknown[]).map(quote).join(', ')})`);
    rows++;
    if (batch.length === BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  source.close();
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), 'isaac-import-bench-'));
try {
  const rates = [0, 1, 2].map(() => redactionRate(ORDINARY));
  const secretRates = [0, 1, 2].map(() => redactionRate(SECRETY, 200_000));
  say(`redaction, ordinary commands: ${fmt(median(rates) / 1000, 0)}k lines/s (aim > 100k)`);
  say(`redaction, secret-bearing commands: ${fmt(median(secretRates) / 1000, 0)}k lines/s`);

  const file = join(dir, 'bash_history');
  await writeHistory(file, LINES);
  mkdirSync(join(dir, 'home'));
  // an empty database with isaac's schema, copied for each sqlite3 run
  const template = join(dir, 'template');
  openStore(template).close();
  let run = 0;
  const isaacImport = async (home: string) => {
    rmSync(home, { recursive: true, force: true });
    return await measured(process.execPath, [ISAAC_BIN, 'import', 'bash', file], {
      ...process.env,
      ISAAC_HOME: home,
      HOME: join(dir, 'home'),
    });
  };
  // the first import gives the rows the sqlite3 script inserts
  const first = await isaacImport(join(dir, 'isaac-0'));
  const script = join(dir, 'reference.sql');
  const rows = await referenceScript(join(dir, 'isaac-0', 'isaac.db'), script);
  say(
    `${LINES.toLocaleString('en')} bash lines (${rows.toLocaleString('en')} commands, the rest malformed): ` +
      `first isaac import ${fmt(first.ms / 1000, 1)} s, peak ${fmt(first.peakMb, 0)} MB`,
  );
  const sqlite = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' });
  const isaacRuns: { ms: number; peakMb: number }[] = [first];
  if (sqlite.status !== 0) {
    say('sqlite3 CLI not found (apt-get install sqlite3): no reference for import.1m.vs_sqlite');
    for (let i = 1; i < RUNS; i++) isaacRuns.push(await isaacImport(join(dir, `isaac-${i}`)));
  } else {
    const cliMs: number[] = [];
    const isaacMs: number[] = [];
    await alternate(
      RUNS,
      async () => {
        const r = await isaacImport(join(dir, `isaac-${++run}`));
        isaacRuns.push(r);
        isaacMs.push(r.ms);
      },
      async () => {
        const db = join(dir, `cli-${run}.db`);
        copyFileSync(join(template, 'isaac.db'), db);
        const r = await measured(
          'sh',
          ['-c', 'exec sqlite3 "$0" < "$1" > /dev/null', db, script],
          process.env,
        );
        cliMs.push(r.ms);
        rmSync(db, { force: true });
        for (const ext of ['-wal', '-shm']) rmSync(`${db}${ext}`, { force: true });
      },
    );
    say(
      `import, ${RUNS} runs each alternated: isaac import bash ${fmt(median(isaacMs) / 1000, 2)} s, ` +
        `sqlite3 ${sqlite.stdout.split(' ')[0]} CLI (same rows, ${BATCH}-row transactions) ${fmt(median(cliMs) / 1000, 2)} s`,
    );
    figure({
      name: 'import.1m.vs_sqlite',
      value: median(isaacMs) / 1000,
      unit: 's',
      reference: median(cliMs) / 1000,
      referenceLabel: 'sqlite3 CLI',
      goal: '<= 1.3x',
    });
  }
  figure({
    name: 'import.1m.peak_mb',
    value: Math.max(...isaacRuns.map((r) => r.peakMb)),
    unit: 'MB',
    goal: '<= 150',
  });

  const home = join(dir, 'isaac-0');
  const again = await measured(process.execPath, [ISAAC_BIN, 'import', 'bash', file], {
    ...process.env,
    ISAAC_HOME: home,
    HOME: join(dir, 'home'),
  });
  say(`re-import (all duplicates): ${fmt(again.ms / 1000, 1)} s, peak ${fmt(again.peakMb, 0)} MB`);

  const store = openStore(home);
  const recentMs: number[] = [];
  const ftsMs: number[] = [];
  const fts = store.db.prepare<[string], { id: number }>(
    'SELECT rowid AS id FROM commands_fts WHERE commands_fts MATCH ? ORDER BY rowid DESC LIMIT 20',
  );
  const terms = ['nginx', 'typescript', 'parser', 'kubectl', 'backup', 'http'];
  for (let i = 0; i < 30; i++) {
    let t = performance.now();
    store.history.recent(20);
    recentMs.push(performance.now() - t);
    t = performance.now();
    fts.all(terms[i % terms.length]!);
    ftsMs.push(performance.now() - t);
  }
  say(
    `over ${store.history.count()} records: recent(20) median ${fmt(median(recentMs))} ms, FTS match median ${fmt(median(ftsMs))} ms (aim < 20 ms)`,
  );
  store.close();
  if (!existsSync(file)) throw new Error('unreachable');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
