import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify } from '../../../node/core/tiers/index.ts';

/**
 * Combines the ways a catastrophic command can be disguised — name quoting, wrappers, and the
 * places a command can hide in a line — and checks every combination is still refused.
 */

const BASES: readonly [name: string, args: string][] = [
  ['rm', '-rf /'],
  ['rm', '-fr ~'],
  ['dd', 'if=/dev/zero of=/dev/sda'],
  ['mkfs.ext4', '/dev/nvme0n1p1'],
  ['chmod', '-R 777 /'],
];

const NAMES: readonly ((n: string) => string)[] = [
  (n) => n,
  (n) => `"${n}"`,
  (n) => `'${n}'`,
  (n) => `\\${n}`,
  (n) => `${n[0]}''${n.slice(1)}`,
  (n) => `${n[0]}\\${n.slice(1)}`,
  (n) => `/usr/bin/${n}`,
  (n) => `$(echo ${n})`,
  (n) => `\`which ${n}\``,
  (n) => `$'${n}'`,
  (n) => `X=${n}; $X`,
];

const WRAPPERS: readonly string[] = [
  '',
  'sudo ',
  'sudo -u root -- ',
  'env ',
  'env FOO=1 ',
  'nice -n 5 ',
  'nohup ',
  'time ',
  'command ',
  'exec ',
  'timeout 5 ',
  'stdbuf -oL ',
  'doas ',
  'xargs ',
  'sudo env nice ',
];

function doubleQuoted(line: string): string {
  return `"${line.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

const CONTEXTS: readonly ((l: string) => string)[] = [
  (l) => l,
  (l) => `ls; ${l}`,
  (l) => `true && ${l}`,
  (l) => `false || ${l}`,
  (l) => `(${l})`,
  (l) => `{ ${l}; }`,
  (l) => `echo $(${l})`,
  (l) => `bash -c ${doubleQuoted(l)}`,
  (l) => `sh -c ${doubleQuoted(`sh -c ${doubleQuoted(l)}`)}`,
  (l) => `eval ${doubleQuoted(l)}`,
  (l) => `if true; then ${l}; fi`,
  (l) => `${l} &`,
  (l) => `f(){ ${l}; }`,
  (l) => `echo ok |\n${l}`,
];

test('every disguise of a catastrophic command is still tier 4', () => {
  const escaped: string[] = [];
  let count = 0;
  for (const [name, args] of BASES) {
    for (const spell of NAMES) {
      for (const wrapper of WRAPPERS) {
        const spelled = spell(name);
        // `X=rm; $X` puts the assignment before any wrapper.
        const simple = spelled.includes('; ')
          ? `${spelled.slice(0, spelled.indexOf('; ') + 2)}${wrapper}${spelled.slice(spelled.indexOf('; ') + 2)} ${args}`
          : `${wrapper}${spelled} ${args}`;
        for (const context of CONTEXTS) {
          const line = context(simple);
          count++;
          if (classify(line).tier !== 4) escaped.push(line);
        }
      }
    }
  }
  assert.ok(count > 10_000, `${count} combinations`);
  assert.deepEqual(escaped.slice(0, 20), [], `${escaped.length} of ${count} disguises got through`);
});

test('the same disguises around a harmless command stay harmless', () => {
  const flagged: string[] = [];
  for (const spell of NAMES.slice(0, 7)) {
    for (const context of CONTEXTS) {
      const line = context(`${spell('ls')} -la /`);
      if (classify(line).tier > 2) flagged.push(line);
    }
  }
  assert.deepEqual(flagged, []);
});
