import assert from 'node:assert/strict';
import { test } from 'node:test';
import { looksLikeUsageError, parseProposal } from '../../../node/shell/ai/parse.ts';
import { StreamPrinter } from '../../../node/shell/ai/render.ts';

test('replies are read robustly: fenced block, JSON object, plain answer', () => {
  assert.deepEqual(parseProposal('Here you go:\n```bash\n$ ls -la\n```\nLists all files.'), {
    kind: 'command',
    command: 'ls -la',
    explanation: 'Here you go:\n\nLists all files.',
  });
  assert.deepEqual(parseProposal('{"command": "df -h", "explanation": "Disk usage."}'), {
    kind: 'command',
    command: 'df -h',
    explanation: 'Disk usage.',
  });
  assert.deepEqual(parseProposal('```json\n{"answer": "Yes."}\n```'), { kind: 'answer', text: 'Yes.' });
  assert.deepEqual(parseProposal('Use a symlink.'), { kind: 'answer', text: 'Use a symlink.' });
  // a python snippet is not a shell command to run
  assert.equal(parseProposal('```python\nprint(1)\n```').kind, 'answer');
});

test('multi-line blocks become one line the tiers see whole; control characters are never proposed', () => {
  assert.deepEqual(
    parseProposal('```sh\n# update\nsudo apt update\nsudo apt upgrade -y \\\n  --no-install-recommends\n```'),
    {
      kind: 'command',
      command: 'sudo apt update && sudo apt upgrade -y --no-install-recommends',
      explanation: '',
    },
  );
  assert.equal(parseProposal('```sh\necho hi\u001b[2J\n```').kind, 'answer');
  assert.equal(parseProposal('{"command": "ls\\u0007"}').kind, 'answer');
});

test('only "command not found" and usage errors ask for a fix', () => {
  assert.equal(looksLikeUsageError(127, ''), true);
  assert.equal(looksLikeUsageError(2, 'ls: unrecognized option --colour=x'), true);
  assert.equal(looksLikeUsageError(1, 'Usage: git commit [<options>]'), true);
  assert.equal(looksLikeUsageError(1, 'cat: x: No such file or directory'), false);
  assert.equal(looksLikeUsageError(0, 'command not found'), false);
});

test('streamed tokens print as they come, even split inside the ``` markers', () => {
  let shown = '';
  const printer = new StreamPrinter((text) => {
    shown += text;
  });
  for (const ch of 'Try:\n```sh\nfree -h\n```\nShows memory.') printer.write(ch);
  printer.end();
  assert.equal(shown, 'Try:\nShows memory.\n', 'the shell block is held back for the caller');
  let inline = '';
  const second = new StreamPrinter((text) => {
    inline += text;
  });
  second.write('`code` stays');
  second.end();
  assert.equal(inline, '`code` stays\n');
});
