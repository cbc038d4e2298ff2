import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { MarkerParser } from '../../node/shell/marker-parser.ts';
import { ShellSession } from '../../node/shell/pty-session.ts';
import { tempDir } from '../helpers/tmp.ts';

/** A real bash in a pty with a temp HOME as its cwd, closed when the test ends. */
async function sessionIn(t: TestContext, interactive: boolean) {
  const home = tempDir(t);
  const session = await ShellSession.start({ interactive, cwd: home, env: { ...process.env, HOME: home } });
  t.after(() => session.close());
  return { home, session };
}

describe('persistent shell session', () => {
  test('state persists between commands and exit status and cwd are reported', async (t) => {
    const { session } = await sessionIn(t, false);
    assert.equal((await session.run('cd /tmp && export Y=5')).cwd, '/tmp');
    const echoed = await session.run('echo $Y; (exit 3)');
    assert.equal(echoed.exit, 3);
    assert.equal(echoed.output, '5\n');
    assert.equal((await session.run('echo $?')).output, '3\n');
  });

  test('a command cannot fake the end-of-command marker', async (t) => {
    const { session } = await sessionIn(t, false);
    const result = await session.run(
      "printf '\\033]6973;0000;done;0;/\\007'; echo real-end; exit_code=9; (exit 9)",
    );
    assert.equal(result.exit, 9);
    assert.match(result.output, /real-end/);
  });

  test('typed-ahead text never runs as a command after the current one ends', async (t) => {
    const { home, session } = await sessionIn(t, true);
    const running = session.run('sleep 0.5');
    session.write('touch typed-ahead-ran\r');
    await running;
    const check = await session.run(`test -e ${home}/typed-ahead-ran && echo RAN || echo safe`);
    assert.match(check.output, /safe/);
  });

  test('Ctrl-C interrupts the command and the session goes on', async (t) => {
    const { session } = await sessionIn(t, true);
    const running = session.run('sleep 30');
    setTimeout(() => session.interrupt(), 300);
    const result = await running;
    assert.equal(result.exit, 130);
    assert.ok(result.durationMs < 5000);
    assert.equal((await session.run('echo alive')).exit, 0);
  });
});

describe('marker parser', () => {
  test('finds markers split across any chunk boundary', () => {
    const stream = 'hello\x1b]6973;abc;done;0;/tmp\x07world\x1b]6973;abc;ready\x07';
    for (let cut = 0; cut <= stream.length; cut++) {
      const texts: string[] = [];
      const markers: string[][] = [];
      const parser = new MarkerParser('abc', { text: (x) => texts.push(x), marker: (f) => markers.push(f) });
      parser.push(stream.slice(0, cut));
      parser.push(stream.slice(cut));
      assert.equal(texts.join(''), 'helloworld', `cut at ${cut}`);
      assert.deepEqual(markers, [['done', '0', '/tmp'], ['ready']]);
    }
  });
});
