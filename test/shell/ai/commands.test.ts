import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runNaturalLanguage } from '../../../node/shell/commands/ai.ts';
import { findSlashCommand } from '../../../node/shell/commands/registry.ts';
import { EXIT } from '../../../schemas/cli.ts';
import { aiContext, RecordingIO } from '../../helpers/ai-io.ts';
import { aiStore } from '../../helpers/ai-setup.ts';
import { startFakeProvider } from '../../helpers/fake-providers.ts';
import { freePort } from '../../helpers/tmp.ts';

const PROPOSAL = '```sh\ndu -sh * | sort -h\n```\nShows the size of each entry here.';

async function ollamaStore(t: Parameters<typeof aiStore>[0], text = PROPOSAL) {
  const fake = await startFakeProvider(t, 'ollama', { text });
  return { fake, store: aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl }) };
}

test('isaac <words> on a terminal: the proposal streams, Enter runs it through ctx.runLine', async (t) => {
  const { store } = await ollamaStore(t);
  const io = new RecordingIO(true, ['']);
  const ctx = aiContext(store, io, { runLine: async () => 7 });
  assert.equal(await runNaturalLanguage('what takes space here', ctx), 7, 'the exit status of the run');
  assert.deepEqual(ctx.ran, ['du -sh * | sort -h']);
  assert.equal(
    io.stdout,
    'Shows the size of each entry here.\n  $ du -sh * | sort -h\n',
    'no raw ``` markers; the command offered comes last, alone on its line, from the parsed reply',
  );
  assert.match(io.questions[0]?.question ?? '', /Enter runs it · e edits · n drops/);
});

test('isaac <words>: `e` edits the command before it runs, `n` drops it', async (t) => {
  const { store } = await ollamaStore(t);
  const editIO = new RecordingIO(true, ['e', 'du -sh .']);
  const edited = aiContext(store, editIO);
  assert.equal(await runNaturalLanguage('sizes', edited), 0);
  assert.deepEqual(editIO.questions[1], { question: 'edit: ', initial: 'du -sh * | sort -h' });
  assert.deepEqual(edited.ran, ['du -sh .']);

  const dropIO = new RecordingIO(true, ['n']);
  const dropped = aiContext(store, dropIO);
  assert.equal(await runNaturalLanguage('sizes', dropped), 0);
  assert.deepEqual(dropped.ran, []);
  assert.match(dropIO.stdout, /dropped/);

  const goneIO = new RecordingIO(true, [undefined]); // Ctrl-D at the prompt
  const gone = aiContext(store, goneIO);
  await runNaturalLanguage('sizes', gone);
  assert.deepEqual(gone.ran, []);
});

test('without a terminal the proposal is printed and not run, unless --yes (still through runLine)', async (t) => {
  const { store } = await ollamaStore(t);
  const io = new RecordingIO(false);
  const ctx = aiContext(store, io);
  assert.equal(await runNaturalLanguage('sizes', ctx), 0);
  assert.deepEqual(ctx.ran, []);
  assert.equal(io.stdout, '  $ du -sh * | sort -h\nShows the size of each entry here.\n');
  assert.match(io.stderr, /not run \(no terminal to confirm\)/);
  assert.deepEqual(io.questions, []);

  const yes = aiContext(store, new RecordingIO(false), { assumeYes: true });
  await runNaturalLanguage('sizes', yes);
  assert.deepEqual(yes.ran, ['du -sh * | sort -h']);
});

test('a question gets an answer and nothing runs', async (t) => {
  const { store } = await ollamaStore(t, 'Port 22 is SSH.');
  const io = new RecordingIO(true, ['']);
  const ctx = aiContext(store, io);
  assert.equal(await runNaturalLanguage('what is port 22?', ctx), 0);
  assert.equal(io.stdout, 'Port 22 is SSH.\n');
  assert.deepEqual(ctx.ran, []);
  assert.deepEqual(io.questions, []);
});

test('no provider configured: one clear line, the config exit status', async (t) => {
  const io = new RecordingIO(true);
  const ctx = aiContext(aiStore(t), io);
  assert.equal(await runNaturalLanguage('list files', ctx), EXIT.config);
  assert.equal(
    io.stderr,
    'no AI provider configured: /set config ai.provider ollama (or set ANTHROPIC_API_KEY)\n',
  );
  assert.deepEqual(ctx.ran, []);
});

test('malformed JSON from the provider: clear error, the network exit status, nothing run', async (t) => {
  const fake = await startFakeProvider(t, 'openai', { text: PROPOSAL, malformed: true });
  const store = aiStore(t, { 'ai.provider': 'openai', 'ai.openai.base_url': fake.baseUrl });
  const io = new RecordingIO(true, ['']);
  const ctx = aiContext(store, io, { env: { OPENAI_API_KEY: 'sk-proj-FFFFFFFFFFFFFFFFFFFFFFFF' } });
  assert.equal(await runNaturalLanguage('sizes', ctx), EXIT.network);
  assert.match(io.stderr, /OpenAI sent malformed JSON: .*nothing was run/);
  assert.deepEqual(ctx.ran, []);
  assert.deepEqual(io.questions, [], 'never offered to run');
});

test('provider unreachable: the question is queued and the user told where the answer will appear', async (t) => {
  const store = aiStore(t, {
    'ai.provider': 'ollama',
    'ai.ollama.base_url': `http://127.0.0.1:${await freePort()}`,
  });
  const io = new RecordingIO(true);
  const ctx = aiContext(store, io);
  assert.equal(await runNaturalLanguage('sizes', ctx), 0);
  assert.match(io.stderr, /question queued, the answer will appear in \/show messages/);
  assert.deepEqual(ctx.ran, []);
});

test('/ask, /explain, /show context and /show ai-history are registered and work', async (t) => {
  const { store } = await ollamaStore(t, 'It listed the directory.');
  store.history.insertRemote([
    { origin: 'nas', seq: 1, ts: Date.now() - 1000, command: 'zpool status', exit: 0 },
  ]);
  store.history.record({ command: 'ls', output: 'a b c', exit: 0, cwd: '/tmp' });
  const run = async (words: string, io: RecordingIO) => {
    const found = findSlashCommand(words.split(' '));
    assert.ok(found, `/${words} is registered`);
    return await found.command.run(found.args, aiContext(store, io));
  };
  const ctxIO = new RecordingIO(false);
  assert.equal(await run('show context', ctxIO), 0);
  assert.match(ctxIO.stdout, /^This machine: laptop/);
  assert.match(ctxIO.stdout, /^nas: zpool status {2}\[\?, exit 0\]$/m);

  const explainIO = new RecordingIO(false);
  assert.equal(await run('explain', explainIO), 0);
  assert.equal(explainIO.stdout, 'It listed the directory.\n');

  const askIO = new RecordingIO(false);
  assert.equal(await run('ask what did ls do', askIO), 0);
  assert.equal(askIO.stdout, 'It listed the directory.\n');

  const historyIO = new RecordingIO(false);
  assert.equal(await run('show ai-history', historyIO), 0);
  assert.match(historyIO.stdout, /explain \[ollama\]: Command: ls/);
  assert.match(historyIO.stdout, /ask \[ollama\]: what did ls do\n {4}→ It listed the directory\./);

  const jsonIO = new RecordingIO(false);
  assert.equal(await run('show ai-history 1 --json', jsonIO), 0);
  const entries = JSON.parse(jsonIO.stdout) as { kind: string; question: string }[];
  assert.deepEqual(
    entries.map((e) => [e.kind, e.question]),
    [['ask', 'what did ls do']],
  );
});

test('when a provider is skipped the user is told why, and who answered', async (t) => {
  const first = await startFakeProvider(t, 'anthropic', { status: 401 });
  const second = await startFakeProvider(t, 'ollama', { text: 'Port 22 is SSH.' });
  const store = aiStore(t, {
    'ai.provider': 'anthropic',
    'ai.fallback': 'ollama',
    'ai.anthropic.base_url': first.baseUrl,
    'ai.ollama.base_url': second.baseUrl,
  });
  const io = new RecordingIO(false);
  const ctx = aiContext(store, io, { env: { ANTHROPIC_API_KEY: 'sk-ant-api03-JJJJJJJJJJJJJJJJJJJJJJJJJJ' } });
  assert.equal(await runNaturalLanguage('what is port 22?', ctx), 0);
  assert.equal(io.stdout, 'Port 22 is SSH.\n');
  assert.equal(
    io.stderr,
    '(key rejected by Anthropic: set ANTHROPIC_API_KEY (or /set config ai.anthropic.key); answered by ollama)\n',
  );
});
