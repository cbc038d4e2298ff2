import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { classify } from '../../../node/core/tiers/index.ts';

// The shared red-team corpus (issue 12) is read at test time; the committed copy stands in on a fresh clone.
const SHARED = new URL('../../../../shared/tiers/redteam.tsv', import.meta.url);
const COPY = new URL('../../fixtures/tiers-redteam.tsv', import.meta.url);

function readCorpus(): [string, string][] {
  const text = readFileSync(existsSync(SHARED) ? SHARED : COPY, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)]);
}

function satisfies(expected: string, tier: number): boolean {
  if (expected === '>=3') return tier >= 3;
  if (expected === '<=2') return tier <= 2;
  return tier === Number(expected);
}

describe('red-team tier corpus', () => {
  const corpus = readCorpus();
  test('the corpus has lines of every kind', () => {
    for (const kind of ['4', '>=3', '<=2'])
      assert.ok(
        corpus.some(([e]) => e === kind),
        `no ${kind} lines`,
      );
  });
  for (const [expected, line] of corpus) {
    test(`${expected}\t${line}`, () => {
      const c = classify(line);
      assert.ok(
        satisfies(expected, c.tier),
        `${JSON.stringify(line)}: expected ${expected}, got ${c.tier} (${c.reason}; rule ${c.rule})`,
      );
      assert.ok(c.reason.length > 0 && c.part.length > 0 && c.rule.length > 0);
    });
  }
});
