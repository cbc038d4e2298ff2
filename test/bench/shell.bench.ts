/**
 * Issue 2 figures: per-command overhead of isaac's script mode against plain bash, and start-up
 * time of `isaac -c "/show status"`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISAAC_BIN } from '../helpers/isaac.ts';
import { fmt, median } from './stats.ts';

const LINES = 500;
const RUNS = 5;
const home = mkdtempSync(join(tmpdir(), 'isaac-bench-'));
const env = { ...process.env, ISAAC_HOME: join(home, 'isaac'), HOME: home };
const script = 'true\n'.repeat(LINES);

function wallMs(cmd: string, args: string[], input?: string): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { input, env, stdio: ['pipe', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

try {
  wallMs(process.execPath, [ISAAC_BIN, '-c', '/show status']); // create the database once
  const isaacEmpty: number[] = [];
  const isaacRuns: number[] = [];
  const bashRuns: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    isaacEmpty.push(wallMs(process.execPath, [ISAAC_BIN], 'true\n'));
    isaacRuns.push(wallMs(process.execPath, [ISAAC_BIN], script));
    bashRuns.push(wallMs('bash', [], script));
  }
  const perIsaac = (median(isaacRuns) - median(isaacEmpty)) / (LINES - 1);
  const perBash = median(bashRuns) / LINES;
  console.log(`per-command: ${LINES} lines of \`true\`, median of ${RUNS} runs`);
  console.log(
    `  isaac script mode: ${fmt(median(isaacRuns))} ms total, ${fmt(perIsaac, 3)} ms/command (start-up excluded)`,
  );
  console.log(`  bash:              ${fmt(median(bashRuns))} ms total, ${fmt(perBash, 3)} ms/command`);
  console.log(
    `  overhead: ${fmt(perIsaac - perBash, 3)} ms/command extra (aim < 3), ratio ${fmt(perIsaac / perBash, 1)}x`,
  );

  const startup: number[] = [];
  for (let i = 0; i < 10; i++) startup.push(wallMs(process.execPath, [ISAAC_BIN, '-c', '/show status']));
  const nodeBare: number[] = [];
  for (let i = 0; i < 10; i++) nodeBare.push(wallMs(process.execPath, ['-e', '0']));
  console.log(
    `start-up: isaac -c "/show status" median of 10: ${fmt(median(startup))} ms (aim < 250); bare node -e 0: ${fmt(median(nodeBare))} ms`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
