import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CancelledError } from '../../../node/shell/ai/providers/types.ts';
import { ProviderError } from '../../../schemas/errors.ts';
import { aiAssistant, aiStore } from '../../helpers/ai-setup.ts';
import { startFakeProvider } from '../../helpers/fake-providers.ts';

const PROPOSAL = '```sh\ndu -sh * | sort -h\n```\nShows the size of each entry here, largest last.';
const ANTHROPIC_KEY = 'sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const OPENAI_KEY = 'sk-proj-BBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const XAI_KEY = 'xai-CCCCCCCCCCCCCCCCCCCCCCCCCCCC';

for (const kind of ['anthropic', 'openai', 'ollama'] as const) {
  test(`${kind}: a request becomes a proposed command, streamed token by token`, async (t) => {
    const fake = await startFakeProvider(t, kind, { text: PROPOSAL });
    const store = aiStore(t, {
      'ai.provider': kind,
      [`ai.${kind}.base_url`]: fake.baseUrl,
      'ai.model': 'm-1',
    });
    const env = kind === 'anthropic' ? { ANTHROPIC_API_KEY: ANTHROPIC_KEY } : { OPENAI_API_KEY: OPENAI_KEY };
    const tokens: string[] = [];
    const result = await aiAssistant(store, env).ask('what takes space here?', {
      onToken: (tok) => tokens.push(tok),
    });
    assert.deepEqual(result, {
      kind: 'command',
      command: 'du -sh * | sort -h',
      explanation: 'Shows the size of each entry here, largest last.',
      provider: kind,
    });
    assert.ok(tokens.length > 3, 'the reply arrived in several streamed pieces');
    assert.equal(tokens.join(''), PROPOSAL);
    const request = fake.requests[0]!;
    const body = request.body as Record<string, unknown>;
    assert.equal(body.model, 'm-1');
    assert.equal(body.stream, true);
    if (kind === 'anthropic') {
      assert.equal(request.path, '/v1/messages');
      assert.equal(request.headers['x-api-key'], ANTHROPIC_KEY);
      assert.equal(request.headers['anthropic-version'], '2023-06-01');
      assert.match(String(body.system), /This machine: laptop/);
      assert.deepEqual(body.messages, [{ role: 'user', content: 'what takes space here?' }]);
    } else if (kind === 'openai') {
      assert.equal(request.path, '/v1/chat/completions');
      assert.equal(request.headers.authorization, `Bearer ${OPENAI_KEY}`);
      const messages = body.messages as { role: string; content: string }[];
      assert.equal(messages[0]?.role, 'system');
      assert.deepEqual(messages[1], { role: 'user', content: 'what takes space here?' });
    } else {
      assert.equal(request.path, '/api/chat');
      assert.equal(request.headers.authorization, undefined, 'no key goes to Ollama');
    }
  });
}

test('a question that is not a command request gets an answer', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', {
    text: 'A symlink is a file that points at another path.',
  });
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl });
  const result = await aiAssistant(store).ask('what is a symlink?');
  assert.deepEqual(result, {
    kind: 'answer',
    text: 'A symlink is a file that points at another path.',
    provider: 'ollama',
  });
});

test('fallback: the first provider answers 500 (retried), the next one answers', async (t) => {
  const first = await startFakeProvider(t, 'anthropic', { status: 500 });
  const second = await startFakeProvider(t, 'ollama', { text: PROPOSAL });
  const store = aiStore(t, {
    'ai.provider': 'anthropic',
    'ai.fallback': 'ollama',
    'ai.anthropic.base_url': first.baseUrl,
    'ai.ollama.base_url': second.baseUrl,
  });
  const result = await aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY }).ask('sizes here');
  assert.equal(result.kind, 'command');
  assert.equal(result.kind === 'command' && result.provider, 'ollama');
  assert.equal(first.requests.length, 3, 'one try and two retries on 5xx');
  assert.equal(second.requests.length, 1);
});

test('fallback: the first provider times out (ai.timeout), the next one answers', async (t) => {
  const first = await startFakeProvider(t, 'openai', { hang: true });
  const second = await startFakeProvider(t, 'ollama', { text: 'fine' });
  const store = aiStore(t, {
    'ai.provider': 'openai',
    'ai.fallback': 'ollama',
    'ai.timeout': '1',
    'ai.openai.base_url': first.baseUrl,
    'ai.ollama.base_url': second.baseUrl,
  });
  const started = Date.now();
  const result = await aiAssistant(store, { OPENAI_API_KEY: OPENAI_KEY }).ask('hello?');
  assert.deepEqual(result, {
    kind: 'answer',
    text: 'fine',
    provider: 'ollama',
    skipped: ['no answer from OpenAI within 1 s: check the provider, or raise ai.timeout'],
  });
  const took = Date.now() - started;
  assert.ok(took >= 900 && took < 5000, `waited about ai.timeout (${took} ms)`);
  assert.equal(first.requests.length, 1, 'a timeout is not retried');
});

test('a provider that goes silent mid-stream times out instead of hanging; the question is queued', async (t) => {
  const fake = await startFakeProvider(t, 'anthropic', { text: 'one two three', tokenDelayMs: 3000 });
  const store = aiStore(t, {
    'ai.provider': 'anthropic',
    'ai.timeout': '1',
    'ai.anthropic.base_url': fake.baseUrl,
  });
  const seen: string[] = [];
  const assistant = aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY });
  const started = Date.now();
  const result = await assistant.ask('x', { onToken: (tok) => seen.push(tok) });
  assert.ok(Date.now() - started < 2500, 'gave up after ai.timeout of silence');
  assert.equal(result.kind, 'queued');
  assert.match(
    result.kind === 'queued' ? result.reason : '',
    /Anthropic stopped streaming: no answer within 1 s/,
  );
  assert.deepEqual(seen, ['one '], 'the first token had been shown; the rest never came');
  assert.equal(assistant.pendingCount(), 1);
});

test('401: a clear "key rejected by Anthropic" message, nothing queued', async (t) => {
  const fake = await startFakeProvider(t, 'anthropic', { status: 401 });
  const store = aiStore(t, { 'ai.provider': 'anthropic', 'ai.anthropic.base_url': fake.baseUrl });
  const assistant = aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY });
  await assert.rejects(assistant.ask('list files'), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(
      err.toLine(),
      'key rejected by Anthropic: set ANTHROPIC_API_KEY (or /set config ai.anthropic.key)',
    );
    assert.ok(!err.toLine().includes(ANTHROPIC_KEY.slice(10)), 'the key is never printed');
    return true;
  });
  assert.equal(fake.requests.length, 1, '401 is not retried');
  assert.equal(assistant.pendingCount(), 0);
});

test('401 with a key from /set config points at /set config', async (t) => {
  const fake = await startFakeProvider(t, 'openai', { status: 401 });
  const store = aiStore(t, {
    'ai.provider': 'openai',
    'ai.openai.base_url': fake.baseUrl,
    'ai.openai.key': OPENAI_KEY,
  });
  await assert.rejects(aiAssistant(store).ask('x'), {
    message: 'key rejected by OpenAI',
    hint: 'fix it with /set config ai.openai.key <key>',
  });
});

test('429: waits for Retry-After, then succeeds', async (t) => {
  const fake = await startFakeProvider(t, 'openai', { text: 'done' });
  fake.script({ status: 429, headers: { 'retry-after': '1' } });
  const store = aiStore(t, { 'ai.provider': 'openai', 'ai.openai.base_url': fake.baseUrl });
  const started = Date.now();
  const result = await aiAssistant(store, { OPENAI_API_KEY: OPENAI_KEY }).ask('hi');
  assert.deepEqual(result, { kind: 'answer', text: 'done', provider: 'openai' });
  assert.equal(fake.requests.length, 2);
  assert.ok(Date.now() - started >= 950, 'Retry-After: 1 was honoured');
});

test('429 with a Retry-After longer than we wait: unavailable at once, question queued', async (t) => {
  const fake = await startFakeProvider(t, 'openai', { status: 429, headers: { 'retry-after': '3600' } });
  const store = aiStore(t, { 'ai.provider': 'openai', 'ai.openai.base_url': fake.baseUrl });
  const assistant = aiAssistant(store, { OPENAI_API_KEY: OPENAI_KEY });
  const result = await assistant.ask('hi');
  assert.equal(result.kind, 'queued');
  assert.match(result.kind === 'queued' ? result.reason : '', /rate limiting \(HTTP 429\)/);
  assert.equal(fake.requests.length, 1);
});

for (const kind of ['anthropic', 'openai', 'ollama'] as const) {
  test(`${kind}: malformed JSON in the stream is a clear ProviderError`, async (t) => {
    const fake = await startFakeProvider(t, kind, { text: PROPOSAL, malformed: true });
    const store = aiStore(t, { 'ai.provider': kind, [`ai.${kind}.base_url`]: fake.baseUrl });
    const assistant = aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY });
    await assert.rejects(assistant.ask('sizes'), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.match(err.toLine(), /sent malformed JSON: .*nothing was run/);
      return true;
    });
    assert.equal(assistant.pendingCount(), 0, 'a broken reply is an error, not an outage');
  });
}

test('a stream cut off before its end event proposes nothing: the question is queued, and says why', async (t) => {
  for (const kind of ['anthropic', 'openai', 'ollama'] as const) {
    for (const reply of [{ breakAfter: 2 }, { truncate: true }]) {
      const fake = await startFakeProvider(t, kind, { text: PROPOSAL, ...reply });
      const store = aiStore(t, { 'ai.provider': kind, [`ai.${kind}.base_url`]: fake.baseUrl });
      const assistant = aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY });
      const result = await assistant.ask('sizes');
      assert.equal(result.kind, 'queued', `${kind} ${JSON.stringify(reply)}`);
      assert.match(result.kind === 'queued' ? result.reason : '', /broke off|ended the answer stream early/);
      assert.equal(assistant.pendingCount(), 1);
    }
  }
});

test('Anthropic error event inside the stream (overloaded) counts as unavailable', async (t) => {
  const fake = await startFakeProvider(t, 'anthropic', {
    text: 'a b c',
    streamError: { type: 'overloaded_error', message: 'Overloaded' },
  });
  const store = aiStore(t, { 'ai.provider': 'anthropic', 'ai.anthropic.base_url': fake.baseUrl });
  const result = await aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY }).ask('x');
  assert.equal(result.kind, 'queued');
  assert.match(result.kind === 'queued' ? result.reason : '', /Anthropic is unavailable: Overloaded/);
});

test('Anthropic error event of another kind is a clear ProviderError', async (t) => {
  const fake = await startFakeProvider(t, 'anthropic', {
    text: 'a b c',
    streamError: { type: 'invalid_request_error', message: 'prompt is too long' },
  });
  const store = aiStore(t, { 'ai.provider': 'anthropic', 'ai.anthropic.base_url': fake.baseUrl });
  await assert.rejects(aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY }).ask('x'), {
    message: 'Anthropic reported an error: prompt is too long',
  });
});

test('Ctrl-C: aborting the signal cancels the request at once', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', { text: 'slow answer here', tokenDelayMs: 2000 });
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl });
  const assistant = aiAssistant(store);
  const controller = new AbortController();
  const started = Date.now();
  const pending = assistant.ask('x', { signal: controller.signal, onToken: () => controller.abort() });
  await assert.rejects(pending, CancelledError);
  assert.ok(Date.now() - started < 1500, 'did not wait for the stream');
  assert.equal(assistant.pendingCount(), 0, 'a cancelled question is not queued');
});

test('each key goes only to its own provider', async (t) => {
  const anthropic = await startFakeProvider(t, 'anthropic', { status: 503 });
  const openai = await startFakeProvider(t, 'openai', { status: 500 });
  const xai = await startFakeProvider(t, 'openai', { status: 500 });
  const compatible = await startFakeProvider(t, 'openai', { text: 'ok' });
  const store = aiStore(t, {
    'ai.provider': 'anthropic',
    'ai.fallback': 'openai,xai,openai-compatible',
    'ai.anthropic.base_url': anthropic.baseUrl,
    'ai.openai.base_url': openai.baseUrl,
    'ai.xai.base_url': xai.baseUrl,
    'ai.openai-compatible.base_url': compatible.baseUrl,
  });
  const env = { ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY, XAI_API_KEY: XAI_KEY };
  const result = await aiAssistant(store, env).ask('hi');
  assert.equal(result.kind === 'answer' && result.provider, 'openai-compatible');
  const seen = (fake: typeof anthropic) =>
    fake.requests.map((r) => JSON.stringify(r.headers) + r.raw).join('\n');
  const keys = { anthropic: ANTHROPIC_KEY, openai: OPENAI_KEY, xai: XAI_KEY };
  for (const [fake, own] of [
    [anthropic, 'anthropic'],
    [openai, 'openai'],
    [xai, 'xai'],
    [compatible, undefined],
  ] as const) {
    assert.ok(fake.requests.length > 0);
    for (const [name, key] of Object.entries(keys)) {
      assert.equal(
        seen(fake).includes(key),
        name === own,
        `${name} key ${name === own ? 'reaches' : 'never reaches'} ${own ?? 'the compatible server'}`,
      );
    }
  }
  assert.equal(
    compatible.requests[0]?.headers.authorization,
    undefined,
    'no key configured for it: none sent',
  );
});

test('no provider configured: the message says how to configure one', async (t) => {
  const store = aiStore(t);
  await assert.rejects(aiAssistant(store).ask('x'), (err: unknown) => {
    assert.equal(
      (err as Error & { toLine(): string }).toLine(),
      'no AI provider configured: /set config ai.provider ollama (or set ANTHROPIC_API_KEY)',
    );
    return true;
  });
  // with ai.provider unset, an ANTHROPIC_API_KEY in the environment is enough
  assert.equal(aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY }).providers()[0]?.name, 'anthropic');
  store.config.set('ai.provider', 'none');
  assert.throws(
    () => aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY }).providers(),
    /no AI provider configured/,
  );
});

test('a provider echoing the key in an error message never gets it printed', async (t) => {
  const fake = await startFakeProvider(t, 'openai', {
    status: 400,
    errorMessage: `Incorrect API key provided: ${XAI_KEY}. You can find your key at ...`,
  });
  const store = aiStore(t, { 'ai.provider': 'xai', 'ai.xai.base_url': fake.baseUrl });
  await assert.rejects(aiAssistant(store, { XAI_API_KEY: XAI_KEY }).ask('x'), (err: unknown) => {
    const line = (err as ProviderError).toLine();
    assert.match(line, /^xAI refused the request \(HTTP 400\): Incorrect API key provided: xai-…CC\./);
    assert.ok(!line.includes(XAI_KEY));
    return true;
  });
});
