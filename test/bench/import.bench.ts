/**
 * History import and redaction figures: 1,000,000 zsh history lines imported (aim: well under a
 * minute), re-import of the same file, redaction throughput (aim: > 100k lines/s on ordinary
 * commands), and search latency over the imported records.
 * Run: node --import tsx test/bench/import.bench.ts [lines]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactSecrets } from '../../node/core/store/redact.ts';
import { openStore } from '../../node/core/store/store.ts';
import { importHistory } from '../../node/shell/history-import/import.ts';
import { fmt, median } from './stats.ts';

const LINES = Number(process.argv[2] ?? 1_000_000);

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

const dir = mkdtempSync(join(tmpdir(), 'isaac-import-bench-'));
try {
  const rates = [0, 1, 2].map(() => redactionRate(ORDINARY));
  const secretRates = [0, 1, 2].map(() => redactionRate(SECRETY, 200_000));
  console.log(`redaction, ordinary commands: ${fmt(median(rates) / 1000, 0)}k lines/s (aim > 100k)`);
  console.log(`redaction, secret-bearing commands: ${fmt(median(secretRates) / 1000, 0)}k lines/s`);

  const file = join(dir, '.zsh_history');
  const out: string[] = [];
  for (let i = 0; i < LINES; i++) {
    const base = i % 50 === 0 ? SECRETY[i % SECRETY.length]! : ORDINARY[i % ORDINARY.length]!;
    out.push(`: ${1_600_000_000 + Math.floor(i / 2)}:0;${base} #${i}`);
  }
  writeFileSync(file, `${out.join('\n')}\n`);
  const store = openStore(join(dir, 'home'));

  let start = performance.now();
  const first = await importHistory(store, { shell: 'zsh', file });
  const firstS = (performance.now() - start) / 1000;
  console.log(
    `import ${LINES} zsh lines: ${fmt(firstS, 1)} s (${fmt(LINES / firstS / 1000, 0)}k lines/s; aim: well under 60 s), imported ${first.imported}`,
  );
  start = performance.now();
  const second = await importHistory(store, { shell: 'zsh', file });
  const secondS = (performance.now() - start) / 1000;
  console.log(
    `re-import (all duplicates): ${fmt(secondS, 1)} s, imported ${second.imported}, duplicates ${second.duplicates}`,
  );

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
  console.log(
    `over ${store.history.count()} records: recent(20) median ${fmt(median(recentMs))} ms, FTS match median ${fmt(median(ftsMs))} ms (aim < 20 ms)`,
  );
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
