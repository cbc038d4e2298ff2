import { existsSync, readFileSync } from 'node:fs';

/**
 * A tier corpus (`LINE<TAB>EXPECTED`): the shared file when this clone sits beside ../shared,
 * else the committed copy in test/fixtures/ (a fresh clone elsewhere).
 */
export function readTierCorpus(name: 'corpus' | 'redteam'): [string, string][] {
  const shared = new URL(`../../../shared/tiers/${name}.tsv`, import.meta.url);
  const copy = new URL(`../fixtures/tiers-${name}.tsv`, import.meta.url);
  const text = readFileSync(existsSync(shared) ? shared : copy, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)]);
}

/** Whether `tier` meets a corpus expectation: an exact tier, `>=3` or `<=2`. */
export function satisfiesTier(expected: string, tier: number): boolean {
  if (expected === '>=3') return tier >= 3;
  if (expected === '<=2') return tier <= 2;
  return tier === Number(expected);
}
