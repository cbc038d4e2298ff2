import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../../../node/core/store/store.ts';
import { AiRepo } from '../../../node/shell/ai/store.ts';
import { aiAssistant, aiStore } from '../../helpers/ai-setup.ts';
import { startFakeProvider } from '../../helpers/fake-providers.ts';
import { corpusRows } from '../../helpers/redact-cases.ts';
import { freePort } from '../../helpers/tmp.ts';

const SECRETS = corpusRows().map(([command, secret]) => ({ command, secret }));

function systemOf(body: unknown): string {
  const record = body as { system?: string; messages?: { role: string; content: string }[] };
  return record.system ?? record.messages?.find((m) => m.role === 'system')?.content ?? '';
}

test('the context sent carries other machines’ commands, newest last, and no secret of the corpus', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', { text: 'noted' });
  const store = aiStore(t, {
    'ai.provider': 'ollama',
    'ai.ollama.base_url': fake.baseUrl,
    'ai.context.size': '100',
  });
  const base = Date.now() - 100_000;
  store.history.insertRemote([
    { origin: 'nas', seq: 1, ts: base + 1, command: 'docker compose ps', cwd: '/srv/media', exit: 0 },
    { origin: 'desktop', seq: 1, ts: base + 2, command: 'make -j8 kernel', cwd: '/home/me/linux', exit: 2 },
  ]);
  store.history.insertRemote(
    SECRETS.map(({ command }, i) => ({ origin: 'nas', seq: 10 + i, ts: base + 10 + i, command, exit: 0 })),
  );
  for (const [i, { command }] of SECRETS.entries())
    store.history.record({ command, ts: base + 100 + i, cwd: '/tmp' });
  store.history.record({ command: 'git status', ts: base + 500, cwd: '/home/me/src', exit: 0 });

  const assistant = aiAssistant(store);
  await assistant.ask(`why does ${SECRETS[4]?.command} fail?`);
  const request = fake.requests[0]!;
  const system = systemOf(request.body);
  assert.match(system, /^nas: docker compose ps {2}\[\/srv\/media, exit 0\]$/m);
  assert.match(system, /^desktop: make -j8 kernel {2}\[\/home\/me\/linux, exit 2\]$/m);
  assert.match(system, /This machine: laptop — OS .+, shell bash, cwd \/home\/me\/src/);
  const lines = system.split('\n');
  assert.equal(lines.at(-2), 'laptop: git status  [/home/me/src, exit 0]', 'newest last');
  assert.match(lines.at(-1) ?? '', /^isaac-context-[0-9a-f]{16}>>>$/, 'then the block closes');
  for (const { secret } of SECRETS) {
    assert.ok(!request.raw.includes(secret), `secret ${secret.slice(0, 6)}… never sent`);
  }
  // /show context prints exactly the context block that was sent
  assert.ok(system.includes(`\n${assistant.buildContext()}\n`));
});

test('ai.context.size and ai.context.machines bound the context', async (t) => {
  const store = aiStore(t, { 'ai.context.size': '3', 'ai.context.machines': 'nas' });
  const base = Date.now() - 100_000;
  store.history.insertRemote(
    Array.from({ length: 10 }, (_, i) => ({
      origin: i % 2 ? 'nas' : 'desktop',
      seq: i + 1,
      ts: base + i,
      command: `cmd-${i}`,
    })),
  );
  store.history.record({ command: 'local-cmd', ts: base + 50 });
  const context = aiAssistant(store).buildContext();
  const commands = context.split('\n').filter((l) => /^\w+: cmd-/.test(l));
  assert.deepEqual(commands, [
    'nas: cmd-5  [?, exit ?]',
    'nas: cmd-7  [?, exit ?]',
    'nas: cmd-9  [?, exit ?]',
  ]);
  assert.ok(!context.includes('local-cmd') && !context.includes('desktop:'));
  store.config.set('ai.context.size', '0');
  assert.match(aiAssistant(store).buildContext(), /No recent commands recorded on nas\./);
});

test('the context stays under its character cap with huge commands', async (t) => {
  const store = aiStore(t, { 'ai.context.size': '1000' });
  store.history.insertRemote(
    Array.from({ length: 1000 }, (_, i) => ({
      origin: 'nas',
      seq: i + 1,
      ts: i + 1,
      command: `echo ${'x'.repeat(5000)} ${i}`,
    })),
  );
  const context = aiAssistant(store).buildContext();
  assert.ok(context.length <= 12_000, `context is ${context.length} characters`);
  assert.match(context.split('\n').at(-1) ?? '', /^nas: echo x+…/, 'the newest commands are the ones kept');
});

test('offline: provider down -> question queued; provider up -> answer delivered exactly once', async (t) => {
  const deadPort = await freePort();
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': `http://127.0.0.1:${deadPort}` });
  const assistant = aiAssistant(store);
  const result = await assistant.ask('how do I see open ports?');
  assert.equal(result.kind, 'queued');
  assert.match(result.kind === 'queued' ? result.reason : '', /cannot reach Ollama/);
  assert.equal(assistant.pendingCount(), 1);
  assert.deepEqual(
    await assistant.drainPending(),
    { delivered: 0, remaining: 1 },
    'still down: nothing delivered',
  );

  const fake = await startFakeProvider(t, 'ollama', {
    text: '```sh\nss -tlnp\n```\nLists listening TCP ports.',
  });
  store.config.set('ai.ollama.base_url', fake.baseUrl);
  assert.deepEqual(await assistant.drainPending(), { delivered: 1, remaining: 0 });
  assert.deepEqual(
    await assistant.drainPending(),
    { delivered: 0, remaining: 0 },
    'second drain delivers nothing',
  );
  const answers = new AiRepo(store.db).answers();
  assert.equal(answers.length, 1);
  assert.match(answers[0]!.body, /how do I see open ports\?/);
  assert.match(answers[0]!.body, /suggested command \(not run\): ss -tlnp/);
  assert.equal(answers[0]!.shown, 0, 'waits to be shown at the prompt');
  const row = store.db
    .prepare<[], { direction: string; peer: string }>(
      "SELECT direction, peer FROM messages WHERE kind = 'ai-answer'",
    )
    .get();
  assert.deepEqual({ ...row }, { direction: 'in', peer: 'ai' });
  assert.equal(fake.requests.length, 1);
});

test('offline queue: two shells draining at once still deliver each answer once', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', { text: 'an answer', delayMs: 50 });
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl });
  const repo = new AiRepo(store.db);
  for (const q of ['one?', 'two?', 'three?']) repo.enqueue('ask', q, 'This machine: laptop', Date.now());
  const other = openStore(store.home);
  t.after(() => other.close());
  await Promise.all([aiAssistant(store).drainPending(), aiAssistant(other).drainPending()]);
  assert.equal(repo.answers().length, 3);
  assert.equal(repo.pendingCount(), 0);
});

test('queued questions are stored redacted', async (t) => {
  const store = aiStore(t, {
    'ai.provider': 'ollama',
    'ai.ollama.base_url': `http://127.0.0.1:${await freePort()}`,
  });
  const secret = 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
  await aiAssistant(store).ask(`clone with token ${secret}`);
  const dump = JSON.stringify(store.db.prepare('SELECT * FROM pending_ai').all());
  assert.ok(dump.includes('clone with token') && !dump.includes(secret));
  assert.ok(!JSON.stringify(store.db.prepare('SELECT * FROM ai_history').all()).includes(secret));
});

test('tier-3 review: the AI explains the risk; unreachable or rejected, the local reason stands (fail closed)', async (t) => {
  const fake = await startFakeProvider(t, 'anthropic', {
    text: 'This deletes every file under /var/log for good.',
  });
  const store = aiStore(t, { 'ai.provider': 'anthropic', 'ai.anthropic.base_url': fake.baseUrl });
  const env = { ANTHROPIC_API_KEY: 'sk-ant-api03-DDDDDDDDDDDDDDDDDDDDDDDDDDDD' };
  const line = 'sudo rm -rf /var/log/*';
  assert.equal(
    await aiAssistant(store, env).reviewRisk(line, 'recursive delete as root'),
    'This deletes every file under /var/log for good.',
  );
  assert.match(JSON.stringify(fake.requests[0]?.body), /sudo rm -rf \/var\/log\/\*/);
  fake.script({ status: 401 });
  assert.equal(
    await aiAssistant(store, env).reviewRisk(line, 'recursive delete as root'),
    'recursive delete as root (AI unavailable)',
  );
  await fake.close();
  assert.equal(
    await aiAssistant(store, env).reviewRisk(line, 'recursive delete as root'),
    'recursive delete as root (AI unavailable)',
  );
  assert.equal(aiAssistant(store, env).pendingCount(), 0, 'a review is never queued: it is needed now');
  const unconfigured = aiStore(t);
  assert.equal(await aiAssistant(unconfigured).reviewRisk(line, 'why'), 'why (AI unavailable)');
});

test('typo fix: "command not found" gets the AI’s corrected command; other failures ask nothing', async (t) => {
  const fake = await startFakeProvider(t, 'openai', {
    text: '```bash\ngit status\n```\nFixed the typo in git.',
  });
  const store = aiStore(t, { 'ai.provider': 'openai', 'ai.openai.base_url': fake.baseUrl });
  const assistant = aiAssistant(store, { OPENAI_API_KEY: 'sk-proj-EEEEEEEEEEEEEEEEEEEEEEEE' });
  assert.equal(await assistant.suggestFix('gti status', 127, 'bash: gti: command not found\n'), 'git status');
  assert.equal(
    await assistant.suggestFix('cat nothere', 1, 'cat: nothere: No such file or directory\n'),
    undefined,
  );
  assert.equal(fake.requests.length, 1, 'no request for an ordinary failure');
  fake.script({ text: 'NONE' });
  assert.equal(
    await assistant.suggestFix('tar -q x', 2, 'tar: invalid option -- q\nUsage: tar ...'),
    undefined,
  );
  await fake.close();
  assert.equal(
    await assistant.suggestFix('gti status', 127, 'gti: command not found'),
    undefined,
    'offline: no fix',
  );
});

test('/explain material: the last command, its exit code and bounded output reach the AI', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', {
    text: 'The build failed because make found no Makefile.',
  });
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl });
  const record = store.history.record({
    command: 'make',
    output: `${'noise\n'.repeat(5000)}make: *** No targets specified and no makefile found.  Stop.\n`,
    exit: 2,
    cwd: '/tmp/x',
  })!;
  const result = await aiAssistant(store).explain(record);
  assert.deepEqual(result, {
    kind: 'answer',
    text: 'The build failed because make found no Makefile.',
    provider: 'ollama',
  });
  const user = (fake.requests[0]!.body as { messages: { role: string; content: string }[] }).messages.at(
    -1,
  )!.content;
  assert.match(user, /Command: make\nRan on: laptop in \/tmp\/x\nExit code: 2\nOutput \(last part\):/);
  assert.match(user, /no makefile found/);
  assert.ok(user.length < 5000, 'the output is bounded');
});

test('every query lands in the AI history, apart from the command history', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', { text: '```sh\nls -la\n```\nLists files.' });
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl });
  const assistant = aiAssistant(store);
  await assistant.ask('list all files');
  fake.script({ malformed: true });
  await assert.rejects(assistant.ask('list again'));
  const history = assistant.history(10);
  assert.equal(history.length, 2);
  assert.deepEqual(
    history.map((h) => [h.kind, h.question, h.command, h.provider]),
    [
      ['ask', 'list again', null, null],
      ['ask', 'list all files', 'ls -la', 'ollama'],
    ],
  );
  assert.match(history[0]!.error ?? '', /malformed JSON/);
  assert.equal(store.history.count(), 0, 'nothing was added to the command history');
});

test('offline queue: a question the provider keeps failing on is reported after 5 tries, not kept for ever', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', { text: 'x', malformed: true });
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl });
  const repo = new AiRepo(store.db);
  repo.enqueue('ask', 'poison?', 'This machine: laptop', Date.now());
  const assistant = aiAssistant(store);
  for (let i = 0; i < 4; i++)
    assert.deepEqual(await assistant.drainPending(), { delivered: 0, remaining: 1 });
  assert.deepEqual(await assistant.drainPending(), { delivered: 1, remaining: 0 });
  assert.match(
    repo.answers()[0]?.body ?? '',
    /the AI could not answer “poison\?”: Ollama sent malformed JSON/,
  );
});

test('/show context --full is the whole system prompt exactly as sent', async (t) => {
  const fake = await startFakeProvider(t, 'anthropic', { text: 'ok' });
  const store = aiStore(t, { 'ai.provider': 'anthropic', 'ai.anthropic.base_url': fake.baseUrl });
  store.history.insertRemote([{ origin: 'nas', seq: 1, ts: Date.now() - 5, command: 'df -h', exit: 0 }]);
  const assistant = aiAssistant(store, { ANTHROPIC_API_KEY: 'sk-ant-api03-GGGGGGGGGGGGGGGGGGGGGGGGGG' });
  await assistant.ask('disk?');
  assert.equal(systemOf(fake.requests[0]?.body), assistant.systemPrompt());
});
