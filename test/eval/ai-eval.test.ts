import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { classify } from '../../node/core/tiers/index.ts';
import { startFakeProvider } from '../helpers/fake-providers.ts';
import { tempDir } from '../helpers/tmp.ts';
import { formatSummary, runEval } from './ai-eval.ts';

const fenced = (line: string) => `\`\`\`sh\n${line}\n\`\`\`\nDone.`;

test('eval harness against a mock provider: scores, tier counts, time to first token; tier 3 never runs', async (t) => {
  const marker = join(tempDir(t, 'isaac-eval-test-'), 'ran-tier-3');
  const risky = `touch ${marker}; rm -rf testbed`;
  assert.ok(classify(risky).tier >= 3, 'the risky proposal is tier 3 or above');
  const fake = await startFakeProvider(t, 'ollama', { text: 'unused' });
  fake.script(
    { text: fenced('find testbed | wc -l') }, // the reference's result: a match
    { text: fenced('ls') }, // runs, but gives another result
    { text: fenced(risky) }, // tier 3: counted as asked, never run
    { text: 'I would need to look at the files first.' }, // an answer, no command
    { text: fenced('find testbed -type l'), tokenDelayMs: 5 },
  );
  const seen: string[] = [];
  const summary = await runEval({
    provider: 'ollama',
    baseUrl: fake.baseUrl,
    filesystems: [5],
    limit: 5,
    env: {},
    onResult: (r) => seen.push(r.outcome),
  });
  assert.deepEqual(seen, ['match', 'mismatch', 'asked', 'no-command', 'match']);
  assert.equal(summary.total, 5);
  assert.equal(summary.matched, 2);
  assert.equal(summary.asked, 1);
  assert.equal(summary.accuracy, 2 / 5);
  assert.equal(typeof summary.medianFirstTokenMs, 'number');
  assert.equal(existsSync(marker), false, 'the tier-3 proposal did not run');
  assert.equal(fake.requests.length, 5);
  const first = fake.requests[0]?.body as { messages?: { content: string }[] } | undefined;
  const asked = first?.messages?.[1]?.content;
  assert.equal(asked, 'Count the number of files and directories in the entire testbed directory');
  assert.match(formatSummary(summary), /2\/5 proposals gave the reference's result \(40\.0%\)/);
  assert.match(formatSummary(summary), /asked \(tier 3\) 1 · refused \(tier 4\) 0/);
});
