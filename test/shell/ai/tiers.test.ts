import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../../node/core/store/store.ts';
import { classify } from '../../../node/core/tiers/index.ts';
import { runNaturalLanguage } from '../../../node/shell/commands/ai.ts';
import { aiContext, RecordingIO } from '../../helpers/ai-io.ts';
import { aiStore } from '../../helpers/ai-setup.ts';
import { startFakeProvider } from '../../helpers/fake-providers.ts';
import { isaacEnv, runIsaac } from '../../helpers/isaac.ts';

/** A runLine with the real classifier in front, as the shell's router has: tier 4 never runs. */
function tieredRunLine(ran: string[]) {
  return async (line: string) => {
    const verdict = classify(line);
    if (verdict.tier === 4) return 126;
    ran.push(line);
    return 0;
  };
}

test('an AI-proposed tier-4 command goes through the tiers and is refused', async (t) => {
  const fake = await startFakeProvider(t, 'ollama', { text: '```sh\nrm -rf /\n```\nDeletes everything.' });
  const store = aiStore(t, { 'ai.provider': 'ollama', 'ai.ollama.base_url': fake.baseUrl });
  assert.equal(classify('rm -rf /').tier, 4);
  const reallyRan: string[] = [];
  const io = new RecordingIO(true, ['']);
  const ctx = aiContext(store, io, { runLine: tieredRunLine(reallyRan) });
  assert.equal(await runNaturalLanguage('free up all disk space', ctx), 126);
  assert.deepEqual(ctx.ran, [], 'refused before it reaches the router');
  assert.deepEqual(reallyRan, []);
  assert.match(io.stderr, /refused \(tier 4, never runs\)/);
});

test('a proposal with `; rm -rf ~` appended is caught by the tiers as a whole line', async (t) => {
  const fake = await startFakeProvider(t, 'anthropic', {
    text: '```sh\nls -la; rm -rf ~\n```\nLists files.',
  });
  const store = aiStore(t, { 'ai.provider': 'anthropic', 'ai.anthropic.base_url': fake.baseUrl });
  assert.equal(classify('ls -la').tier, 1);
  assert.equal(classify('ls -la; rm -rf ~').tier, 4);
  const reallyRan: string[] = [];
  const ctx = aiContext(store, new RecordingIO(false), {
    assumeYes: true,
    env: { ANTHROPIC_API_KEY: 'sk-ant-api03-HHHHHHHHHHHHHHHHHHHHHHHHHH' },
    runLine: tieredRunLine(reallyRan),
  });
  assert.equal(await runNaturalLanguage('list files', ctx), 126);
  assert.deepEqual(reallyRan, []);
});

test('real isaac: `isaac <words>` with --yes refuses the AI’s `; rm -rf ~` and runs nothing of the line', async (t) => {
  const ienv = isaacEnv(t);
  const marker = join(ienv.userHome, 'marker');
  const fake = await startFakeProvider(t, 'ollama', {
    text: `\`\`\`sh\ntouch ${marker}; rm -rf ~\n\`\`\`\nCreates a marker file.`,
  });
  const store = openStore(ienv.home);
  store.config.set('ai.provider', 'ollama');
  store.config.set('ai.ollama.base_url', fake.baseUrl);
  store.close();
  const result = await runIsaac(ienv, ['--yes', '-c', 'isaac make a marker file']);
  assert.match(result.stdout, /\$ touch .*marker; rm -rf ~/, 'the proposal is shown');
  assert.match(result.stderr, /refused \(tier 4/);
  assert.equal(result.status, 126);
  assert.equal(existsSync(marker), false, 'no part of the line ran');
  assert.equal(existsSync(ienv.userHome), true);
  assert.equal(fake.requests.length, 1);
});
