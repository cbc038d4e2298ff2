import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../../node/core/store/store.ts';
import { startFakeProvider } from '../../helpers/fake-providers.ts';
import { IsaacTerminal, isaacEnv } from '../../helpers/isaac.ts';
import { waitFor } from '../../helpers/tmp.ts';

const ENTER = '\r';
const CTRL_C = '\x03';

async function terminalWithAi(
  t: Parameters<typeof isaacEnv>[0],
  reply: Parameters<typeof startFakeProvider>[2],
) {
  const fake = await startFakeProvider(t, 'ollama', reply);
  const ienv = isaacEnv(t);
  const store = openStore(ienv.home);
  store.config.set('machine.name', 'testbox');
  store.config.set('ai.provider', 'ollama');
  store.config.set('ai.ollama.base_url', fake.baseUrl);
  store.close();
  const term = new IsaacTerminal(t, ienv);
  await term.waitForText('testbox:~$ ');
  return { fake, term, ienv };
}

test('at the terminal: isaac <words> streams the proposal, Enter runs it in the shell', async (t) => {
  const { term } = await terminalWithAi(t, {
    text: '```sh\necho answer-$((6*7))\n```\nPrints the answer.',
    tokenDelayMs: 20,
  });
  const mark = term.mark();
  term.write(`isaac print the answer${ENTER}`);
  await term.waitForText(/Prints the answer\.\s+\$ echo answer-\$\(\(6\*7\)\)\s/, mark);
  await term.waitForText('Enter runs it · e edits · n drops', mark);
  term.write(ENTER);
  await term.waitForText(/answer-42\s/, mark);
  await term.waitForText('testbox:~$ ', mark);
});

test('at the terminal: Ctrl-C cancels a streaming answer and the prompt comes back', async (t) => {
  const { term } = await terminalWithAi(t, { text: 'this answer is very slow', tokenDelayMs: 5000 });
  let mark = term.mark();
  term.write(`isaac tell me a long story${ENTER}`);
  await term.waitForText('this', mark);
  term.write(CTRL_C);
  await term.waitForText('cancelled', mark, 4000);
  await term.waitForText('testbox:~$ ', mark);
  mark = term.mark();
  term.write(`echo still-$((1+1))${ENTER}`);
  await term.waitForText('still-2', mark);
});

test('at the terminal: escape sequences in a reply cannot fake the command shown; Enter runs what is shown last', async (t) => {
  const hidden = '\x1b[1A\x1b[2K\r  $ ls -la';
  const { term, ienv } = await terminalWithAi(t, {
    text: `\`\`\`sh\ntouch marker-made\n\`\`\`\nLists the files.${hidden}`,
    tokenDelayMs: 5,
  });
  const raw = term.output.length;
  const mark = term.mark();
  term.write(`isaac list the files${ENTER}`);
  await term.waitForText('Enter runs it · e edits · n drops', mark);
  const shown = term.output.slice(raw);
  assert.ok(!shown.includes(hidden), 'the model’s escape sequences never reach the terminal raw');
  assert.ok(shown.includes('␛[1A␛[2K␍  $ ls -la'), 'they are shown as visible symbols');
  const plain = term.plain.slice(mark);
  assert.match(
    plain,
    /␛\[1A␛\[2K␍ {2}\$ ls -la\r?\n {2}\$ touch marker-made\r?\n/,
    'the real command comes last, alone',
  );
  const ran = term.mark();
  term.write(ENTER);
  await term.waitForText('testbox:~$ ', ran);
  const marker = join(ienv.userHome, 'marker-made');
  await waitFor(() => existsSync(marker), 'what ran is the command shown on its own line');
});
