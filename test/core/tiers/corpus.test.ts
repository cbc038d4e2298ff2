import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify } from '../../../node/core/tiers/index.ts';
import { BYPASS_CORPUS } from '../../fixtures/tiers-bypass-corpus.ts';
import { readTierCorpus, satisfiesTier } from '../../helpers/tier-corpus.ts';

function check(expected: string, line: string): void {
  const c = classify(line);
  assert.ok(
    satisfiesTier(expected, c.tier),
    `${JSON.stringify(line)}: expected ${expected}, got ${c.tier} (${c.reason}; part ${JSON.stringify(c.part)})`,
  );
  assert.ok(c.reason.length > 0, 'every verdict explains itself');
  assert.ok(c.part.length > 0, 'every verdict names the part that decided it');
}

describe('shared tier corpus', () => {
  const corpus = readTierCorpus('corpus');
  test('the corpus has lines of every kind', () => {
    for (const kind of ['4', '>=3', '<=2'])
      assert.ok(
        corpus.some(([e]) => e === kind),
        `no ${kind} lines`,
      );
  });
  for (const [expected, line] of corpus) test(`${expected}\t${line}`, () => check(expected, line));
});

describe('bypass corpus', () => {
  assert.ok(BYPASS_CORPUS.length >= 200);
  for (const [expected, line] of BYPASS_CORPUS)
    test(`${expected}\t${JSON.stringify(line)}`, () => check(expected, line));
});
