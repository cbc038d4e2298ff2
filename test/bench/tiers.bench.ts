/**
 * Tier classification throughput: lines/s over the shared corpus plus the bypass corpus, each run
 * repeated until it lasts at least a second; prints the median of five runs.
 */
import { readFileSync } from 'node:fs';
import { classify } from '../../node/tiers/index.ts';
import { BYPASS_CORPUS } from '../tiers-bypass-corpus.ts';
import { fmt, median } from './stats.ts';

const shared = readFileSync(new URL('../../../shared/tiers/corpus.tsv', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => l.slice(l.indexOf('\t') + 1));
const lines = [...shared, ...BYPASS_CORPUS.map(([, line]) => line)];

function runOnce(): number {
  let count = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1000) {
    for (const line of lines) sink += classify(line).tier;
    count += lines.length;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  if (sink === 0) throw new Error('unreachable: every line has a tier');
  return (count / elapsed) * 1000;
}

runOnce(); // warm-up
const rates = Array.from({ length: 5 }, runOnce);
const perLine = 1e6 / median(rates);
console.log(
  `tier classification: ${lines.length} distinct lines (${shared.length} shared corpus + ${lines.length - shared.length} bypass corpus)`,
);
console.log(
  `median ${fmt(median(rates), 0)} lines/s (${fmt(perLine, 1)} µs/line) over 5 runs of >= 1 s; aim > 20000 lines/s`,
);
