import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { classify, formatTierReport } from '../../../node/core/tiers/index.ts';
import { parseSessionNames } from '../../../node/shell/session-names.ts';

/**
 * Tiers v2 by effect class (issue 12): interpreters given code, tool escapes, a shell fed by
 * text, startup files, keys and history, destroying subcommands of unknown tools; and the benign
 * look-alikes of each, which must keep running without a question.
 */

const LINES = readFileSync(new URL('../../fixtures/tiers-effects.tsv', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)] as const);

function satisfies(expected: string, tier: number): boolean {
  if (expected === '>=3') return tier >= 3;
  if (expected === '<=2') return tier <= 2;
  return tier === Number(expected);
}

describe('effect classes', () => {
  for (const [expected, line] of LINES) {
    test(`${expected}\t${line}`, () => {
      const c = classify(line);
      assert.ok(
        satisfies(expected, c.tier),
        `${line}: expected ${expected}, got ${c.tier} (${c.reason}; ${c.rule})`,
      );
    });
  }
});

describe('the live session', () => {
  const gs = new Map([
    ['gs', 'git status'],
    ['rm', 'rm -rf'],
  ]);
  const options = { aliases: gs, commandExists: () => false, candidates: () => ['gc', 'git', 'g'] };
  test('an alias runs as what it stands for, without a did-you-mean', () => {
    const c = classify('gs', options);
    assert.equal(c.tier, 1);
    assert.equal(c.correction, undefined);
    assert.match(c.rule, /^alias gs > rules\.json git/);
  });
  test('an alias is judged by its text: rm aliased to rm -rf makes `rm /` catastrophic', () => {
    assert.equal(classify('rm /', options).tier, 4);
    assert.equal(classify('\\rm x', options).tier, 3, 'a quoted name skips the alias, as in bash');
  });
  test('the session reports aliases with bash quoting and functions by name', () => {
    const names = parseSessionNames(
      "alias gs='git status'\nalias say='echo '\\''hi'\\'''\ndeclare -f mkcd\ndeclare -fx shared\n",
    );
    assert.equal(names.aliases.get('gs'), 'git status');
    assert.equal(names.aliases.get('say'), "echo 'hi'");
    assert.deepEqual([...names.names].sort(), ['gs', 'mkcd', 'say', 'shared']);
  });
});

describe('explanation', () => {
  test('--explain names the part and the rule that decided', () => {
    const c = classify(`ls && vi -c ':!rm -rf ~' -c ':q'`);
    assert.equal(c.tier, 4);
    const text = formatTierReport(c, false, true);
    assert.match(text, /^tier 4: /);
    assert.match(text, /\ndecided by: rm -rf ~\n/);
    assert.match(text, /\nrule: the editor command > rules\.json rm/);
    const json = JSON.parse(formatTierReport(c, true, true)) as Record<string, unknown>;
    assert.equal(json['tier'], 4);
    assert.match(String(json['rule']), /editor command/);
  });
  test('rules from the effect model say which effect decided', () => {
    assert.match(classify('echo x >> ~/.bashrc').rule, /redirection >>/);
    assert.match(classify('helm uninstall web').rule, /destroying subcommand verb/);
    assert.match(classify(`python3 -c 'import os; os.fork()'`).rule, /inline code: fork/);
  });
});
