import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ISAAC_SUBCOMMANDS } from '../../../node/core/store/command-kind.ts';
import { openStore } from '../../../node/core/store/store.ts';
import { renderHelp } from '../../../node/shell/commands/help-format.ts';
import {
  COMMANDS,
  type CommandPrefix,
  findBangCommand,
  findIsaacCommand,
  findSlashCommand,
  namesOf,
} from '../../../node/shell/commands/registry.ts';
import { completeLine } from '../../../node/shell/completion.ts';
import { isaacEnv, runIsaac } from '../../helpers/isaac.ts';
import { tempDir } from '../../helpers/tmp.ts';

const of = (kind: CommandPrefix) => COMMANDS.filter((c) => c.kind === kind);

test('/help lists every registered command, alias and option, and no line is wider than 80 columns', async (t) => {
  const help = await runIsaac(isaacEnv(t), ['-c', '/help']);
  assert.equal(help.status, 0, help.stderr);
  const text = help.stdout;
  for (const c of COMMANDS) {
    assert.ok(text.includes(c.usage), `${c.usage} in /help`);
    const prefix = c.kind === 'isaac' ? 'isaac ' : c.kind;
    for (const alias of c.aliases) assert.ok(text.includes(`${prefix}${alias}`), `alias ${alias}`);
    for (const o of c.options) assert.ok(text.includes(o.flag), `${c.usage}: ${o.flag}`);
  }
  // what the issue found missing
  for (const needed of [
    '!query PATTERN',
    '--timeout S',
    '--ttl S',
    'isaac import',
    'isaac invite',
    'isaac revoke',
  ]) {
    assert.ok(text.includes(needed), `${needed} in /help`);
  }
  const wide = text.split('\n').filter((l) => [...l].length > 80);
  assert.deepEqual(wide, []);
  // a narrower terminal gets a narrower help
  assert.deepEqual(
    renderHelp(COMMANDS, 60)
      .split('\n')
      .filter((l) => [...l].length > 60),
    [],
  );
  // one command: /help !exec
  const one = await runIsaac(isaacEnv(t), ['-c', '/help !exec']);
  assert.match(one.stdout, /^ {2}!exec MACHINE/);
  assert.match(one.stdout, /--ttl S/);
  assert.ok(!one.stdout.includes('/search'));
  const unknown = await runIsaac(isaacEnv(t), ['-c', '/help frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no command frobnicate: see \/help for the list/);
});

test('Tab completion offers exactly the registered names', (t) => {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  const cwd = tempDir(t);
  const complete = (line: string) => completeLine(line, line.length, store, cwd).candidates;
  const slashNames = of('/').flatMap(namesOf);
  assert.deepEqual(complete('/'), [...new Set(slashNames.map((n) => `/${n.split(' ')[0]}`))].sort());
  for (const first of ['show', 'set', 'clear']) {
    const seconds = slashNames.filter((n) => n.startsWith(`${first} `)).map((n) => n.split(' ')[1]);
    assert.ok(seconds.length > 0);
    assert.deepEqual(complete(`/${first} `), [...seconds].sort());
  }
  assert.deepEqual(
    complete('!'),
    of('!')
      .map((c) => `!${c.name}`)
      .sort(),
  );
  assert.deepEqual(
    complete('isaac '),
    of('isaac')
      .map((c) => c.name)
      .sort(),
  );
  assert.ok(complete('/hi').includes('/history'), 'aliases complete too');
});

test('dispatch finds every registered command by each of its names; the registry cannot change', () => {
  for (const c of COMMANDS) {
    for (const name of namesOf(c)) {
      if (c.kind === '/') {
        const found = findSlashCommand([...name.split(' '), 'arg']);
        assert.equal(found?.command, c, `/${name}`);
        assert.deepEqual(found?.args, ['arg']);
      } else if (c.kind === '!') assert.equal(findBangCommand(name), c, `!${name}`);
      else assert.equal(findIsaacCommand(name), c, `isaac ${name}`);
    }
  }
  assert.equal(findSlashCommand(['shwo', 'status']), undefined);
  assert.equal(findBangCommand('beta'), undefined);
  assert.equal(findIsaacCommand('find'), undefined, 'other isaac words go to the AI');
  // names are unique per prefix
  for (const kind of ['/', '!', 'isaac'] as const) {
    const names = of(kind).flatMap(namesOf);
    assert.equal(new Set(names).size, names.length, `${kind} names are unique`);
  }
  assert.ok(Object.isFrozen(COMMANDS));
  assert.throws(() => (COMMANDS as unknown as unknown[]).push({}), TypeError);
  assert.throws(() => {
    (COMMANDS[0] as { summary: string }).summary = 'changed';
  }, TypeError);
  // the store derives a record's kind from its text: it knows the same isaac subcommands
  assert.deepEqual(
    [...ISAAC_SUBCOMMANDS].sort(),
    of('isaac')
      .map((c) => c.name)
      .sort(),
  );
});

test('isaac WORDS from bash runs a registered subcommand, and usage errors name the options', async (t) => {
  const ienv = isaacEnv(t);
  const tier = await runIsaac(ienv, ['tier', '--json', 'rm -rf /']);
  assert.equal(tier.status, 0, tier.stderr);
  assert.equal((JSON.parse(tier.stdout) as { tier: number }).tier, 4);
  const bad = await runIsaac(ienv, ['-c', '/show history 1 2']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /too many arguments: \/show history \[n\] \[--machine M\] \[--all\] \[--json\]/);
});
