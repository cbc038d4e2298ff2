/**
 * Tier classification throughput (aim: over 20,000 lines/s): lines/s classifying the shared
 * starter corpus and the bypass corpus, each run repeated until it lasts at least a second,
 * median of five runs. A naive whitespace split of the same lines, measured in the same run, is
 * printed as a reference so a figure from a busy machine can be read in proportion.
 */
import { existsSync, readFileSync } from 'node:fs';
import { classify } from '../../node/core/tiers/index.ts';
import { BYPASS_CORPUS } from '../fixtures/tiers-bypass-corpus.ts';
import { fmt, median } from './stats.ts';

const sharedFile = new URL('../../../shared/tiers/corpus.tsv', import.meta.url);
const corpusFile = existsSync(sharedFile)
  ? sharedFile
  : new URL('../fixtures/tiers-corpus.tsv', import.meta.url);
const shared = readFileSync(corpusFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => l.slice(l.indexOf('\t') + 1));
const all = [...shared, ...BYPASS_CORPUS.map(([, line]) => line)];

function rate(lines: readonly string[], work: (line: string) => number): number {
  let count = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1000) {
    for (const line of lines) sink += work(line);
    count += lines.length;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  if (sink === 0) throw new Error('unreachable: every line does some work');
  return (count / elapsed) * 1000;
}

function medianRate(lines: readonly string[], work: (line: string) => number): number {
  rate(lines, work); // warm-up
  return median(Array.from({ length: 5 }, () => rate(lines, work)));
}

const tierOf = (line: string): number => classify(line).tier;
const split = (line: string): number => line.split(/\s+/).length;

const sharedRate = medianRate(shared, tierOf);
const allRate = medianRate(all, tierOf);
const reference = medianRate(all, split);
console.log(`shared corpus (${shared.length} lines): median ${fmt(sharedRate, 0)} lines/s`);
console.log(
  `shared + bypass corpus (${all.length} lines): median ${fmt(allRate, 0)} lines/s (${fmt(1e6 / allRate, 1)} µs/line); aim > 20000`,
);
console.log(
  `reference whitespace split: ${fmt(reference, 0)} lines/s; classify costs ${fmt(reference / allRate, 1)}x a split`,
);
