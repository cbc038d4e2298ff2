import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newSetupToken } from '../../broker/init.ts';

test('setup tokens never start with "-", so `isaac-node init --setup-token TOKEN` never reads one as options', () => {
  const tokens = Array.from({ length: 5000 }, () => newSetupToken());
  for (const token of tokens) {
    assert.match(token, /^[A-Za-z0-9_][A-Za-z0-9_-]{31}$/);
  }
  assert.equal(new Set(tokens).size, tokens.length, 'each token is fresh');
});
