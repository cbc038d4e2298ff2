import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextWindowFor } from '../../../node/shell/ai/providers/ollama.ts';
import { runNaturalLanguage } from '../../../node/shell/commands/ai.ts';
import { ProviderError } from '../../../schemas/errors.ts';
import { aiContext, RecordingIO } from '../../helpers/ai-io.ts';
import { aiAssistant, aiStore } from '../../helpers/ai-setup.ts';
import { startFakeProvider } from '../../helpers/fake-providers.ts';

const OPENAI_KEY = 'sk-proj-RRRRRRRRRRRRRRRRRRRRRRRR';
const XAI_KEY = 'xai-SSSSSSSSSSSSSSSSSSSSSSSS';
const ANTHROPIC_KEY = 'sk-ant-api03-TTTTTTTTTTTTTTTTTTTTTTTTTT';
const body = (request: { body: unknown } | undefined) => (request?.body ?? {}) as Record<string, unknown>;

test('OpenAI: max_completion_tokens (gpt-5, o-series), usage requested, the usage-only chunk read past', async (t) => {
  const fake = await startFakeProvider(t, 'openai', { text: '```sh\ndf -h\n```\nDisk space.' });
  const store = aiStore(t, { 'ai.provider': 'openai', 'ai.openai.base_url': fake.baseUrl });
  const result = await aiAssistant(store, { OPENAI_API_KEY: OPENAI_KEY }).ask('disk space?');
  assert.equal(result.kind, 'command');
  const sent = body(fake.requests[0]);
  assert.equal(sent.model, 'gpt-5-mini', 'the current default model');
  assert.equal(typeof sent.max_completion_tokens, 'number');
  assert.equal(sent.max_tokens, undefined, 'gpt-5 and o-series refuse max_tokens');
  assert.deepEqual(sent.stream_options, { include_usage: true });
});

test('retry-after-ms is honoured before retry-after (seconds)', async (t) => {
  const fake = await startFakeProvider(t, 'openai', { text: 'fine' });
  fake.script({ status: 429, headers: { 'retry-after-ms': '300', 'retry-after': '60' } });
  const store = aiStore(t, { 'ai.provider': 'openai', 'ai.openai.base_url': fake.baseUrl });
  const started = Date.now();
  const result = await aiAssistant(store, { OPENAI_API_KEY: OPENAI_KEY }).ask('x');
  assert.equal(result.kind, 'answer', 'waited 300 ms instead of giving up on 60 s');
  assert.ok(Date.now() - started >= 280);
  assert.equal(fake.requests.length, 2);
});

test('per-provider models: a fallback gets its own ai.<provider>.model; defaults are current models', async (t) => {
  const anthropic = await startFakeProvider(t, 'anthropic', { status: 503 });
  const ollama = await startFakeProvider(t, 'ollama', { text: 'ok' });
  const store = aiStore(t, {
    'ai.provider': 'anthropic',
    'ai.fallback': 'ollama',
    'ai.anthropic.base_url': anthropic.baseUrl,
    'ai.ollama.base_url': ollama.baseUrl,
    'ai.anthropic.model': 'claude-haiku-4-5',
    'ai.ollama.model': 'qwen2.5-coder:7b',
  });
  const result = await aiAssistant(store, { ANTHROPIC_API_KEY: ANTHROPIC_KEY }).ask('x');
  assert.equal(result.kind === 'answer' && result.provider, 'ollama');
  assert.equal(body(anthropic.requests[0]).model, 'claude-haiku-4-5');
  assert.equal(body(ollama.requests[0]).model, 'qwen2.5-coder:7b');

  const xai = await startFakeProvider(t, 'openai', { text: 'ok' });
  const defaults = aiStore(t, { 'ai.provider': 'xai', 'ai.xai.base_url': xai.baseUrl });
  await aiAssistant(defaults, { XAI_API_KEY: XAI_KEY }).ask('x');
  assert.equal(body(xai.requests[0]).model, 'grok-4');
});

test('OpenAI-compatible without a model asks the server’s /v1/models and says which it uses', async (t) => {
  const fake = await startFakeProvider(t, 'openai', { text: 'Port 22 is SSH.' });
  fake.models = ['Qwen/Qwen2.5-7B-Instruct', 'other'];
  const store = aiStore(t, {
    'ai.provider': 'openai-compatible',
    'ai.openai-compatible.base_url': fake.baseUrl,
  });
  const io = new RecordingIO(false);
  assert.equal(await runNaturalLanguage('what is port 22?', aiContext(store, io)), 0);
  assert.deepEqual(
    fake.requests.map((r) => `${r.method} ${r.path}`),
    ['GET /v1/models', 'POST /v1/chat/completions'],
  );
  assert.equal(body(fake.requests[1]).model, 'Qwen/Qwen2.5-7B-Instruct');
  assert.match(io.stderr, /no ai\.openai-compatible\.model set: using Qwen\/Qwen2\.5-7B-Instruct/);
  assert.equal(io.stdout, 'Port 22 is SSH.\n');
});

test('Ollama: options.num_ctx is sized to the prompt, so a long context is not cut from the start', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', { text: 'ok' });
  const store = aiStore(t, {
    'ai.provider': 'ollama',
    'ai.ollama.base_url': fake.baseUrl,
    'ai.context.size': '1000',
  });
  store.history.insertRemote(
    Array.from({ length: 300 }, (_, i) => ({
      origin: 'nas',
      seq: i + 1,
      ts: Date.now() - 10_000 + i,
      command: `rsync -a /srv/data/${'x'.repeat(60)}/${i} /backup/`,
      exit: 0,
    })),
  );
  await aiAssistant(store).ask('x');
  const sent = body(fake.requests[0]);
  const messages = sent.messages as { content: string }[];
  const chars = messages.reduce((sum, m) => sum + m.content.length, 0);
  const options = sent.options as { num_ctx: number };
  assert.ok(chars > 10_000, `a long prompt (${chars} chars)`);
  assert.ok(options.num_ctx >= Math.ceil(chars / 3) + 2048, `num_ctx ${options.num_ctx} holds it`);
  assert.ok(options.num_ctx > 4096, 'more than the default window');
  assert.equal(contextWindowFor(100), 4096);
});

test('Ollama: a runtime failure mid-answer is said plainly and queued; only a missing model says pull', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', {
    text: 'a b c',
    streamError: { type: 'error', message: 'llama runner process has terminated: signal: killed' },
  });
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl });
  const result = await aiAssistant(store).ask('x');
  assert.equal(result.kind, 'queued');
  const reason = result.kind === 'queued' ? result.reason : '';
  assert.match(reason, /Ollama failed while answering: llama runner process has terminated/);
  assert.doesNotMatch(reason, /pull/);

  const missing = await startFakeProvider(t, 'ollama', {
    status: 404,
    errorMessage: "model 'llama3.2' not found, try pulling it first",
  });
  const store2 = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': missing.baseUrl });
  await assert.rejects(aiAssistant(store2).ask('x'), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(
      err.toLine(),
      'Ollama has no model llama3.2: run `ollama pull llama3.2` on the Ollama machine, or /set config ai.ollama.model NAME',
    );
    return true;
  });
});

test('one policy for errors inside a stream: transient ones queue the question, on every provider', async (t) => {
  for (const kind of ['anthropic', 'openai'] as const) {
    const transient = kind === 'anthropic' ? 'overloaded_error' : 'server_error';
    const fake = await startFakeProvider(t, kind, {
      text: 'a b c',
      streamError: { type: transient, message: 'busy' },
    });
    const store = aiStore(t, { 'ai.provider': kind, [`ai.${kind}.base_url`]: fake.baseUrl });
    const env = { ANTHROPIC_API_KEY: ANTHROPIC_KEY, OPENAI_API_KEY: OPENAI_KEY };
    const result = await aiAssistant(store, env).ask('x');
    assert.equal(result.kind, 'queued', kind);
    assert.match(result.kind === 'queued' ? result.reason : '', /is unavailable: busy/);

    const bad = await startFakeProvider(t, kind, {
      text: 'a b c',
      streamError: { type: 'invalid_request_error', message: 'prompt is too long' },
    });
    const store2 = aiStore(t, { 'ai.provider': kind, [`ai.${kind}.base_url`]: bad.baseUrl });
    await assert.rejects(aiAssistant(store2, env).ask('x'), /reported an error: prompt is too long/);
  }
});
