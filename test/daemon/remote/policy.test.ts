import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classify } from '../../../node/core/tiers/index.ts';
import {
  type Classifier,
  checkRemoteExec,
  hiddenInPrompt,
  MAX_CONFIRM_CHARS,
  type RemotePolicy,
  remoteExecDecision,
} from '../../../node/daemon/remote/policy.ts';

/**
 * The remote policy fails closed: on the target, a line runs only when the strict classifier
 * proves every part of it within remote.max_tier. Pure: nothing here runs a command.
 */

const strict: Classifier = (line) => classify(line, { strict: true });
const DEFAULTS: RemotePolicy = { maxTier: 2, allowFrom: [], timeoutMs: 1000 };

function refusal(cmd: string, policy: RemotePolicy = DEFAULTS, classifier: Classifier = strict) {
  return checkRemoteExec({ from: 'alpha', cmd }, policy, classifier);
}

// Every line that ran on beta in issue 11 (item 2), and the ways to empty or replace a file.
const ATTACKS = [
  `perl -e 'unlink "F"'`,
  `node -e "require('fs').unlinkSync('F')"`,
  `vim -es -c '!rm F' -c q`,
  `make -f /dev/null --eval='x:;rm F' x`,
  `git -c alias.x='!rm F' x`,
  `sqlite3 db '.shell rm F'`,
  `gdb -batch -ex '!rm F'`,
  `socat - EXEC:'rm F'`,
  '. <(echo rm F)',
  'BASH_ENV=s.sh bash -c true',
  ': > F',
  'cp /dev/null F',
  'tee F </dev/null',
  'ln -sf /dev/null F',
  'sed -i d F',
  `echo 'touch X' >> ~/.profile`,
  `echo 'ssh-ed25519 AAAA attacker' >> ~/.ssh/authorized_keys`,
  `printf '[alias]\\n\\tx = !rm F\\n' >> ~/.gitconfig`,
  `git config --global alias.x '!rm F'`,
  // a script written by one !exec and run by the next
  'bash ./s.sh',
  'sh s.sh',
  './s.sh',
  'source s.sh',
  'python3 s.py',
];

// What else the policy must refuse because it cannot prove it (issue 11's list of classes).
const UNPROVEN = [
  'frobnicate --all',
  `python3 -c 'print(1)'`,
  `ruby -e 'puts 1'`,
  `php -r 'echo 1;'`,
  'python3 < s.py',
  'python3 <(cat s.py)',
  'cat s.py | python3',
  `zip -TT 'rm F' x.zip a`,
  `tar -cf x.tar --checkpoint=1 --checkpoint-action=exec='rm F' a`,
  `tar -cf x.tar --to-command='rm F' a`,
  'find . -name F -exec rm {} +',
  'find . -name F -delete',
  'echo F | xargs rm',
  'parallel rm ::: F',
  'watch -n 1 ls',
  'ssh other ls',
  'PATH=.:$PATH ls',
  'LD_PRELOAD=./x.so ls',
  'export PROMPT_COMMAND=ls',
  'ENV=s.sh sh -i',
  'env BASH_ENV=s.sh bash -c true',
  'echo x > ~/.bashrc',
  'cp x ~/.bashrc',
  'echo x > /etc/motd',
  'ln -s x ~/.config/autostart/x.desktop',
  'echo "* * * * * touch X" | crontab -',
  'cp x.service ~/.config/systemd/user/',
  'make',
  'npm test',
  // tools that write files through an option or by their job
  "gawk -i inplace '{}' F",
  'sort -o F /dev/null',
  'uniq /dev/null F',
  "sed -n 'w F' /dev/null",
  "sed 's/x/rm F/e' G",
  'tar -xf x.tar',
  'dd if=/dev/zero of=F count=1',
  'exec 3>F',
  'ln G F',
];

// Disguises: the same attacks behind lists, wrappers and substitutions.
const DISGUISED = [
  `ls; perl -e 'unlink "F"'`,
  'true && sed -i d F',
  'nice -n 5 sed -i d F',
  'env sed -i d F',
  'timeout 5 tee F </dev/null',
  'bash -c "sed -i d F"',
  `echo $(perl -e 'unlink "F"')`,
  'x=sed; $x -i d F',
  '"$(echo sed)" -i d F',
  `eval 'cp /dev/null F'`,
  'cat F > ~/.profile',
  `ls >> ~/.ssh/authorized_keys`,
  `f() { : > F; }; f`,
];

const BENIGN = [
  'df -h',
  'uptime',
  'cat F',
  'systemctl status nginx',
  'git -C repo status',
  'docker ps',
  'ls',
  'ls -la /tmp',
  'echo hello',
  'true',
  'free -m',
  'ps aux | grep node',
  'journalctl -n 20 --no-pager',
  'echo done >> log.txt',
  "awk '{print $1}' F",
  "sed -n '/error/p' F",
  'sort F | uniq -c',
];

describe('remote policy (strict classifier)', () => {
  for (const line of [...ATTACKS, ...UNPROVEN, ...DISGUISED]) {
    test(`refused: ${line}`, () => {
      const r = refusal(line);
      assert.ok(r, `${line} would run remotely`);
      assert.ok(r.reason.length > 0);
      // a higher max_tier does not open the door: what is not proven stays refused
      assert.ok(refusal(line, { ...DEFAULTS, maxTier: 3 }), `${line} would run with remote.max_tier 3`);
    });
  }
  for (const line of BENIGN) {
    test(`runs: ${line}`, () => assert.equal(refusal(line), undefined, line));
  }
  test('the refusal names what was not proven and where', () => {
    const r = refusal(`perl -e 'unlink "F"'`);
    assert.match(
      r?.reason ?? '',
      /^(not proven safe, so not run remotely: perl is given code to run in `perl -e|tier 3)/,
    );
    const w = refusal(`echo 'touch X' >> ~/.profile`);
    assert.match(w?.reason ?? '', /~\/\.profile/);
  });
  test('tier 3 never runs silently, whatever remote.max_tier says', () => {
    const r = refusal('kill 1234', { ...DEFAULTS, maxTier: 3 });
    assert.equal(r?.tier, 3);
    assert.match(r?.reason ?? '', /needs a yes typed on this machine/);
  });
  test('a classifier that proves nothing (not strict) refuses everything', () => {
    const r = refusal('ls', DEFAULTS, (line) => classify(line));
    assert.match(r?.reason ?? '', /cannot prove the command safe/);
  });
  test('a classifier that throws refuses, at tier 4', () => {
    const r = refusal('ls', DEFAULTS, () => {
      throw new Error('boom');
    });
    assert.equal(r?.tier, 4);
  });
});

describe('remote policy with a person at hand (remote.max_tier 3)', () => {
  const three: RemotePolicy = { ...DEFAULTS, maxTier: 3 };
  const decide = (cmd: string) => remoteExecDecision({ from: 'alpha', cmd }, three, strict);
  test('a proven tier-3 line waits for a yes typed on the target', () => {
    assert.deepEqual(decide('rm notes.txt'), { confirm: { tier: 3, reason: 'deletes files' } });
    assert.deepEqual(decide('uptime'), { run: true });
  });
  test('what is not proven is refused, person or not; tier 4 is never asked', () => {
    for (const line of [...ATTACKS, ...UNPROVEN, 'rm -rf /', 'mv a b'])
      assert.ok('refuse' in decide(line), `${line} would be asked or run`);
  });
  test('a line that could not be shown as exactly what runs is refused, not asked', () => {
    for (const line of [
      'rm F\r\x1b[2Kecho harmless',
      'rm F\necho hi',
      'rm F\techo',
      'rm F # \u202egnp.txt',
      'rm F\u200b',
      `rm F${' '.repeat(40)}x`,
      `rm ${'F'.repeat(MAX_CONFIRM_CHARS)}`,
    ]) {
      const d = decide(line);
      assert.ok(
        'refuse' in d && /could hide what would run|not proven|tier 4/.test(d.refuse.reason),
        JSON.stringify(line),
      );
    }
    assert.equal(hiddenInPrompt('rm "café au lait.txt"'), undefined, 'plain text in any script is fine');
  });
});
