/**
 * `npm run bench`: runs every test/bench/*.bench.ts in its own process, one after another, so
 * each measures on a quiet machine. Pass names to run a subset: `npm run bench -- tiers shell`.
 * `--json` prints only figures, one JSON line each (`{"name","value","unit","reference","ratio"}`);
 * the prose goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const wanted = args.filter((a) => a !== '--json');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

const progress = json ? process.stderr : process.stdout;
progress.write(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
let failed = 0;
for (const file of files) {
  progress.write(`\n=== ${file}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(dir, file)], {
    stdio: 'inherit',
    env: { ...process.env, ISAAC_BENCH_JSON: json ? '1' : '0' },
  });
  if (result.status !== 0) {
    failed++;
    progress.write(`!!! ${file} exited with ${result.status ?? result.signal}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
