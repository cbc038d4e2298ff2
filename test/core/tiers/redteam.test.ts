import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify } from '../../../node/core/tiers/index.ts';
import { readTierCorpus, satisfiesTier } from '../../helpers/tier-corpus.ts';

describe('red-team tier corpus', () => {
  const corpus = readTierCorpus('redteam');
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
        satisfiesTier(expected, c.tier),
        `${JSON.stringify(line)}: expected ${expected}, got ${c.tier} (${c.reason}; rule ${c.rule})`,
      );
      assert.ok(c.reason.length > 0 && c.part.length > 0 && c.rule.length > 0);
    });
  }
});
