import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { IsaacTerminal, isaacEnv, runIsaac } from '../helpers/isaac.ts';

const ENTER = '\r';
const UP = '\x1b[A';
const CTRL_C = '\x03';
const CTRL_D = '\x04';
const CTRL_R = '\x12';
const TAB = '\t';

async function started(t: Parameters<typeof isaacEnv>[0]) {
  const ienv = isaacEnv(t);
  await runIsaac(ienv, ['-c', '/set config machine.name testbox']);
  const term = new IsaacTerminal(t, ienv);
  await term.waitForText('testbox:~$ ');
  return { ienv, term };
}

describe('interactive isaac in a real terminal', () => {
  test('prompt shows machine and cwd; cd changes it; exit codes show', async (t) => {
    const { term } = await started(t);
    let mark = term.mark();
    term.write(`cd /tmp${ENTER}`);
    await term.waitForText('testbox:/tmp$ ', mark);
    mark = term.mark();
    term.write(`false${ENTER}`);
    await term.waitForText('[1] testbox:/tmp$ ', mark);
    term.write(`/exit${ENTER}`);
    assert.equal(await term.waitForExit(), 0);
  });

  test('Up recalls the previous line from history; Ctrl-R finds an older one', async (t) => {
    const { term } = await started(t);
    let mark = term.mark();
    term.write(`echo first-marker-line${ENTER}`);
    await term.waitForText(/first-marker-line\r*\n[\s\S]*testbox:~\$ /, mark);
    mark = term.mark();
    term.write(`echo second${ENTER}`);
    await term.waitForText(/second\r*\n[\s\S]*testbox:~\$ /, mark);
    mark = term.mark();
    term.write(`${UP}${UP}${ENTER}`);
    await term.waitForText(/first-marker-line\r*\n[\s\S]*testbox/, mark);
    mark = term.mark();
    term.write(`${CTRL_R}marker`);
    await term.waitForText("(reverse-i-search)`marker': echo first-marker-line", mark);
    mark = term.mark();
    term.write(ENTER);
    await term.waitForText(/first-marker-line\r*\n/, mark);
  });

  test('Ctrl-C stops the running command, not Isaac', async (t) => {
    const { term } = await started(t);
    const mark = term.mark();
    const begun = Date.now();
    term.write(`sleep 30${ENTER}`);
    await new Promise((r) => setTimeout(r, 500));
    term.write(CTRL_C);
    await term.waitForText('[130] testbox:~$ ', mark, 5000);
    assert.ok(Date.now() - begun < 10_000);
    const after = term.mark();
    term.write(`echo still-here${ENTER}`);
    await term.waitForText('still-here', after);
    assert.equal(term.exited, undefined);
  });

  test('Tab completes / commands and file paths', async (t) => {
    const { ienv, term } = await started(t);
    writeFileSync(join(ienv.userHome, 'unique-file-name.txt'), 'tab-completed-content\n');
    let mark = term.mark();
    term.write(`/show statu${TAB}`);
    await term.waitForText('/show status ', mark);
    term.write(ENTER);
    await term.waitForText('machine', mark);
    mark = term.mark();
    term.write(`cat uniq${TAB}${ENTER}`);
    await term.waitForText('tab-completed-content', mark);
  });

  test('full-screen programs get the terminal: less shows a file and q returns', async (t) => {
    const { ienv, term } = await started(t);
    writeFileSync(
      join(ienv.userHome, 'long.txt'),
      Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n'),
    );
    const mark = term.mark();
    term.write(`less long.txt${ENTER}`);
    await term.waitForText('line 30', mark);
    term.write('q');
    await term.waitForText('testbox:~$ ', mark + 10);
  });

  test('vim edits a file interactively', async (t) => {
    const { ienv, term } = await started(t);
    const mark = term.mark();
    term.write(`vim -u NONE -N edited.txt${ENTER}`);
    await new Promise((r) => setTimeout(r, 800));
    term.write('ihello from vim\x1b:wq\r');
    await term.waitForText('testbox:~$ ', mark + 5, 10_000);
    const after = term.mark();
    term.write(`cat ${join(ienv.userHome, 'edited.txt')}${ENTER}`);
    await term.waitForText('hello from vim', after);
  });

  test('tier 3 asks y/N and a plain Enter means No', async (t) => {
    const { ienv, term } = await started(t);
    const victim = join(ienv.userHome, 'keep.txt');
    writeFileSync(victim, 'x');
    let mark = term.mark();
    term.write(`rm keep.txt${ENTER}`);
    await term.waitForText('[y/N]', mark);
    term.write(ENTER);
    await term.waitForText('not run', mark);
    mark = term.mark();
    term.write(`rm keep.txt${ENTER}`);
    await term.waitForText('[y/N]', mark);
    const answered = term.mark();
    term.write(`y${ENTER}`);
    await term.waitForText('testbox:~$ ', answered);
    const check = term.mark();
    term.write(`test -e keep.txt || echo gone${ENTER}`);
    await term.waitForText('gone', check);
  });

  test('Ctrl-D on an empty line leaves', async (t) => {
    const { term } = await started(t);
    term.write(CTRL_D);
    assert.equal(await term.waitForExit(), 0);
  });
});
