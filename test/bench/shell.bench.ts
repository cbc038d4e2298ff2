/**
 * Start-up of `isaac -c true` against `node -e 0` (issue 15: at most 1.4x), both with the same
 * node binary and no extra flags, alternated ABAB; then issue 2's figures: per-command overhead
 * of script mode against plain bash, and `isaac -c "/show status"`.
 * `node --import tsx test/bench/shell.bench.ts [runs]`
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISAAC_BIN } from '../helpers/isaac.ts';
import { alternate, figure, fmt, median, say } from './stats.ts';

const RUNS = Number(process.argv[2] ?? 40);
const LINES = 500;
const home = mkdtempSync(join(tmpdir(), 'isaac-bench-'));
mkdirSync(join(home, 'home'));
// an empty HOME: no ~/.bashrc (script mode does not read it anyway), no real history
const env = { ...process.env, ISAAC_HOME: join(home, 'isaac'), HOME: join(home, 'home') };

function run(cmd: string, args: string[], input?: string): void {
  const result = spawnSync(cmd, args, { input, env, stdio: ['pipe', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${result.stderr}`);
}

function wallMs(cmd: string, args: string[], input?: string): number {
  const start = process.hrtime.bigint();
  run(cmd, args, input);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

try {
  // the first run creates the database and writes the bundle's code cache (after a build)
  for (let i = 0; i < 3; i++) run(process.execPath, [ISAAC_BIN, '-c', 'true']);
  run(process.execPath, ['-e', '0']);

  const startup = await alternate(
    RUNS,
    async () => run(process.execPath, [ISAAC_BIN, '-c', 'true']),
    async () => run(process.execPath, ['-e', '0']),
  );
  say(
    `start-up, ${RUNS} runs each alternated, ${process.execPath} without flags: ` +
      `isaac -c true median ${fmt(median(startup.a))} ms (min ${fmt(Math.min(...startup.a))}), ` +
      `node -e 0 median ${fmt(median(startup.b))} ms (min ${fmt(Math.min(...startup.b))})`,
  );
  figure({
    name: 'isaac.startup.vs_node',
    value: median(startup.a),
    unit: 'ms',
    reference: median(startup.b),
    referenceLabel: 'node -e 0',
    goal: '<= 1.4x',
  });

  const script = 'true\n'.repeat(LINES);
  const isaacEmpty: number[] = [];
  const isaacRuns: number[] = [];
  const bashRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    isaacEmpty.push(wallMs(process.execPath, [ISAAC_BIN], 'true\n'));
    isaacRuns.push(wallMs(process.execPath, [ISAAC_BIN], script));
    bashRuns.push(wallMs('bash', [], script));
  }
  const perIsaac = (median(isaacRuns) - median(isaacEmpty)) / (LINES - 1);
  const perBash = median(bashRuns) / LINES;
  say(`per-command: ${LINES} lines of \`true\`, median of 5 runs`);
  say(
    `  isaac script mode: ${fmt(median(isaacRuns))} ms total, ${fmt(perIsaac, 3)} ms/command (start-up excluded)`,
  );
  say(`  bash:              ${fmt(median(bashRuns))} ms total, ${fmt(perBash, 3)} ms/command`);
  say(
    `  overhead: ${fmt(perIsaac - perBash, 3)} ms/command extra (aim < 3), ratio ${fmt(perIsaac / perBash, 1)}x`,
  );

  const status: number[] = [];
  for (let i = 0; i < 10; i++) status.push(wallMs(process.execPath, [ISAAC_BIN, '-c', '/show status']));
  say(`start-up: isaac -c "/show status" median of 10: ${fmt(median(status))} ms (aim < 250)`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
