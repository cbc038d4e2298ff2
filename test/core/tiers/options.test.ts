import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  commandCandidates,
  commandExists,
  commandsOnPath,
  refreshCommands,
} from '../../../node/core/tiers/commands-on-path.ts';
import { editDistance, suggest } from '../../../node/core/tiers/correct.ts';
import { classify, formatTierReport, tierOverridesFromConfig } from '../../../node/core/tiers/index.ts';
import { compileRules } from '../../../node/core/tiers/rules.ts';
import { ConfigError } from '../../../schemas/errors.ts';
import { tempDir } from '../../helpers/tmp.ts';

describe('verdict details', () => {
  test('the part that decided is the dangerous simple command, not the whole line', () => {
    const c = classify('ls -la && rm -rf / ; echo done');
    assert.equal(c.tier, 4);
    assert.equal(c.part, 'rm -rf /');
    assert.match(c.reason, /root filesystem/);
  });
  test('sudo: read-only becomes 2, anything else at least 3, catastrophic stays 4', () => {
    assert.equal(classify('sudo ls /root').tier, 2);
    assert.match(classify('sudo ls /root').reason, /as root/);
    assert.equal(classify('sudo apt-get install nginx').tier, 3);
    assert.equal(classify('sudo rm -rf /').tier, 4);
    assert.equal(classify('sudo -l').tier, 1);
  });
  test('find deletions with a filter ask (3); everything under / or ~ is refused (4)', () => {
    assert.equal(classify("find ~ -name '*.pyc' -delete").tier, 3);
    assert.equal(classify('find / -name core -exec rm -f {} +').tier, 3);
    assert.equal(classify('find ~ -type f -delete').tier, 4);
    assert.equal(classify('find / -exec rm -rf {} \\;').tier, 4);
  });
  test('common admin fixes are not refused', () => {
    for (const line of [
      'sudo chown -R $USER:$USER ~',
      'chmod -R go-rwx ~',
      'rm -rf ~/.cache/pip',
      'rm -rf /tmp/build',
    ]) {
      const tier = classify(line).tier;
      assert.ok(tier >= 2 && tier <= 3, `${line}: ${tier}`);
    }
  });
  test("the user's own home by its absolute path is refused; another user's home asks", () => {
    const home = process.env['HOME'];
    if (home && home !== '/') assert.equal(classify(`rm -rf ${home}`).tier, 4);
    assert.equal(classify('sudo rm -rf /home/some-old-account').tier, 3);
  });
  test('unknown commands take the default tier, which is configurable', () => {
    assert.equal(classify('frobnicate --all').tier, 2);
    assert.equal(classify('frobnicate --all', { defaultTier: 3 }).tier, 3);
    assert.equal(classify('ls', { defaultTier: 3 }).tier, 1, 'known commands keep their rule');
  });
  test('quoted text is an argument, not a command', () => {
    for (const line of ['echo "rm -rf /"', "grep 'mkfs /dev/sda' notes", 'git commit -m "dd of=/dev/sda"']) {
      assert.ok(classify(line).tier <= 2, line);
    }
  });
  test('unterminated quotes never hide what the visible words would do', () => {
    assert.equal(classify('rm -rf / "').tier, 4);
    assert.equal(classify("echo 'rm -rf /").tier, 4);
    assert.ok(classify('echo "hello').tier <= 2);
  });
  test('garbage never throws and always yields a tier', () => {
    const alphabet = [
      'a',
      'rm',
      ' ',
      '-rf',
      '/',
      '$(',
      ')',
      '`',
      '"',
      "'",
      '\\',
      '|',
      '&',
      ';',
      '{',
      '}',
      '(',
      '<',
      '>',
      '\n',
      '$',
      '~',
      '*',
      '<<',
      'EOF',
      'case',
      'esac',
      ';;',
      '${',
      '((',
      'function',
      '!',
    ];
    let seed = 42;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let n = 0; n < 3000; n++) {
      let line = '';
      const len = next() % 24;
      for (let k = 0; k < len; k++) line += alphabet[next() % alphabet.length];
      const c = classify(line);
      assert.ok([1, 2, 2.5, 3, 4].includes(c.tier), `${JSON.stringify(line)} -> ${c.tier}`);
    }
  });
  test('deep nesting is cut off conservatively, not by a stack overflow', () => {
    assert.ok(classify(`${'eval '.repeat(40)}rm -rf /`).tier >= 3);
    assert.ok(classify(`${'sudo '.repeat(400)}rm -rf /`).tier >= 3);
    assert.ok(classify('$('.repeat(5000)).tier >= 1);
  });
});

describe('overrides', () => {
  test('tier.<cmd> raises a command', () => {
    assert.equal(classify('curl https://example.com', { overrides: { curl: 3 } }).tier, 3);
    assert.equal(classify('ls', { overrides: { ls: 4 } }).tier, 4);
  });
  test('tier.<cmd> lowers a command', () => {
    const c = classify('rm notes.txt', { overrides: { rm: 2 } });
    assert.equal(c.tier, 2);
    assert.match(c.reason, /tier\.rm is 2/);
    assert.equal(classify('git push --force', { overrides: { git: 2 } }).tier, 2);
  });
  test('an override can never lower a tier-4 pattern', () => {
    for (const [line, name] of [
      ['rm -rf /', 'rm'],
      ['dd if=/dev/zero of=/dev/sda', 'dd'],
      ['mkfs.ext4 /dev/sda1', 'mkfs.ext4'],
      ['sudo rm -rf ~', 'sudo'],
      ['bash -c "rm -rf /"', 'bash'],
      ['echo x > /etc/shadow', 'echo'],
    ] as const) {
      assert.equal(classify(line, { overrides: { [name]: 1, rm: 1, mkfs: 1 } }).tier, 4, line);
    }
  });
  test('tier.sudo replaces the root floor but not what the command itself is', () => {
    assert.equal(classify('sudo apt-get update', { overrides: { sudo: 2 } }).tier, 2);
    assert.equal(classify('sudo rm x', { overrides: { sudo: 2 } }).tier, 3);
  });
  test('tierOverridesFromConfig reads tier.<cmd> and skips tier.default and bad values', () => {
    const o = tierOverridesFromConfig([
      { key: 'tier.rm', value: '2' },
      { key: 'tier.curl', value: '2.5' },
      { key: 'tier.default', value: '3' },
      { key: 'tier.bad', value: '7' },
      { key: 'ai.provider', value: 'none' },
    ]);
    assert.deepEqual({ ...o }, { rm: 2, curl: 2.5 });
  });
  test('command names that are also object property names are ordinary unknown commands', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(classify(`${name} x`).tier, 2, name);
      assert.equal(classify(`sudo ${name} x`).tier, 3, name);
    }
    const o = tierOverridesFromConfig([{ key: 'tier.__proto__', value: '1' }]);
    assert.equal(classify('rm x', { overrides: o }).tier, 3, 'a __proto__ override does not leak into rm');
    assert.equal(classify('__proto__ x', { overrides: o }).tier, 1);
  });
});

describe('corrections', () => {
  const known = ['git', 'grep', 'ls', 'sl', 'sh', 'cat', 'docker', 'rm', 'echo', 'make', 'cargo'];
  const options = {
    commandExists: (name: string) => known.includes(name),
    candidates: () => known,
  };
  test('one candidate at distance 1: tier 2 with the corrected line', () => {
    const c = classify('gti status', options);
    assert.equal(c.tier, 2);
    assert.equal(c.correction, 'git status');
    assert.match(c.reason, /gti -> git/);
  });
  test('corrections happen in place inside lists, pipelines and wrappers', () => {
    assert.equal(
      classify('echo hi && gti status | grpe x', options).correction,
      'echo hi && git status | grep x',
    );
    assert.equal(classify('sudo gti status', options).correction, 'sudo git status');
  });
  test('several equally close candidates: tier 2.5 with the first', () => {
    const c = classify('ss -la', { commandExists: () => false, candidates: () => ['ls', 'sh'] });
    assert.equal(c.tier, 2.5);
    assert.equal(c.correction, 'ls -la');
  });
  test('only a distance-2 candidate: tier 2.5', () => {
    const c = classify('dcoekr ps', options);
    assert.equal(editDistance('dcoekr', 'docker', 3), 2);
    assert.equal(c.tier, 2.5);
    assert.equal(c.correction, 'docker ps');
  });
  test('a correction that turns risky takes the corrected tier', () => {
    const c = classify('gti push --force', options);
    assert.equal(c.tier, 3);
    assert.equal(c.correction, 'git push --force');
  });
  test('no candidate close enough: no correction, default tier', () => {
    const c = classify('zzzzqq --help', options);
    assert.equal(c.correction, undefined);
    assert.equal(c.tier, 2);
  });
  test('existing commands, functions defined on the line and paths are never corrected', () => {
    assert.equal(classify('git status', options).correction, undefined);
    assert.equal(classify('gti(){ git "$@"; }; gti status', options).correction, undefined);
    assert.equal(classify('./gti status', options).correction, undefined);
    assert.equal(classify('gti status').correction, undefined, 'no lookup given: no correction');
  });
  test('the part of a correction is the simple command with the typo', () => {
    assert.equal(classify('ls && gti status -s', options).part, 'gti status -s');
  });
  test('a name that is itself a candidate (an alias from history) is not corrected', () => {
    const c = classify('ll -h', { commandExists: () => false, candidates: () => ['ll', 'ls'] });
    assert.equal(c.correction, undefined);
  });
  test('tier 4 lines are refused, not corrected', () => {
    assert.equal(classify('gti status; rm -rf /', options).tier, 4);
  });
  test('suggest prefers the closest and reports ties', () => {
    assert.deepEqual(suggest('gti', ['git', 'gtk']), { name: 'git', distance: 1, unique: false });
    assert.equal(suggest('ab', ['xyz']), undefined);
  });
});

describe('formatTierReport', () => {
  test('human form names tier, part and reason', () => {
    assert.equal(
      formatTierReport(classify('rm -rf /'), false),
      'tier 4: rm -rf / — deletes the root filesystem',
    );
  });
  test('JSON is one line with tier as a number (2.5 too) and the reason', () => {
    const c = classify('dcoekr ps', { commandExists: () => false, candidates: () => ['docker'] });
    const out = formatTierReport(c, true);
    const last = out.split('\n').at(-1)!;
    const parsed = JSON.parse(last) as Record<string, unknown>;
    assert.equal(parsed['tier'], 2.5);
    assert.equal(typeof parsed['reason'], 'string');
    assert.equal(parsed['correction'], 'docker ps');
    assert.match(last, /^\{"tier":2\.5,"reason":/);
    assert.deepEqual(Object.keys(JSON.parse(formatTierReport(classify('ls'), true))), [
      'tier',
      'reason',
      'part',
    ]);
  });
});

describe('rules file', () => {
  test('a malformed rules file is refused with a ConfigError naming the problem', () => {
    const base = { version: 1 as const, defaultTier: 2 as const };
    assert.throws(
      () => compileRules({ ...base, commands: { x: { tier: 7 as 2, reason: 'r' } } }),
      ConfigError,
    );
    assert.throws(
      () =>
        compileRules({
          ...base,
          commands: {
            x: { tier: 2, reason: 'r', rules: [{ tier: 4, reason: 'r', target: ['moon' as 'root'] }] },
          },
        }),
      /unknown target class moon/,
    );
    assert.throws(() => compileRules({ ...base, commands: { x: { same: 'y' } } }), /unknown command y/);
  });
  test('the shipped rules.json compiles whole (isaac compiles it one command at a time)', () => {
    const json = JSON.parse(
      readFileSync(new URL('../../../node/core/tiers/rules.json', import.meta.url), 'utf8'),
    );
    const eager = compileRules(json);
    const lazy = compileRules(json, { lazy: true });
    for (const name of [...Object.keys(json.commands), 'mkfs.ext4', 'no-such-command']) {
      assert.deepEqual(lazy.lookup(name), eager.lookup(name), name);
    }
  });
  test('first matching rule decides, else the base tier', () => {
    const set = compileRules({
      version: 1,
      defaultTier: 2,
      commands: {
        tool: { tier: 2, reason: 'base', rules: [{ tier: 3, reason: 'wipes', flag: ['--wipe'] }] },
      },
    });
    assert.ok(set.lookup('tool'));
    assert.equal(set.lookup('nope'), undefined);
  });
});

describe('commands on PATH', () => {
  test('finds PATH executables and builtins, not made-up names', () => {
    assert.equal(commandExists('sh'), true);
    assert.equal(commandExists('cd'), true, 'builtin');
    assert.equal(commandExists('zz-no-such-command-zz'), false);
    assert.ok([...commandCandidates([])].includes('ls'));
  });
  test('history names come first; a one-off typo in history is not a candidate', () => {
    const names = [...commandCandidates(['sh -c x', 'myalias a', 'myalias b', 'gti status'])];
    assert.equal(names[0], 'sh');
    assert.ok(names.includes('myalias'));
    assert.ok(!names.includes('gti'));
  });
  test('a new executable in a PATH directory is seen after a refresh', (t) => {
    const dir = tempDir(t);
    const tool = join(dir, 'isaac-test-tool');
    assert.equal(commandsOnPath(dir).has('isaac-test-tool'), false);
    writeFileSync(tool, '#!/bin/sh\n');
    chmodSync(tool, 0o755);
    refreshCommands();
    assert.equal(commandsOnPath(dir).has('isaac-test-tool'), true);
    refreshCommands();
  });
  test('listing a large PATH again is cached (fast)', () => {
    commandsOnPath();
    const start = process.hrtime.bigint();
    for (let k = 0; k < 1000; k++) commandExists('ls');
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(ms < 100, `1000 lookups took ${ms} ms`);
  });
});
