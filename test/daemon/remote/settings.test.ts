import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../../../node/core/store/store.ts';
import { classify } from '../../../node/core/tiers/index.ts';
import { type Classifier, checkRemoteExec, remotePolicy } from '../../../node/daemon/remote/policy.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tierOne: Classifier = (line) => classify(line, { strict: true });

test('remote settings come typed from the config, each default from the key table', (t) => {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  assert.deepEqual(remotePolicy(store), { maxTier: 2, allowFrom: [], timeoutMs: 300_000 });
  store.config.set('remote.allow_from', 'nas,laptop');
  store.config.set('remote.max_tier', '3');
  assert.deepEqual(remotePolicy(store), { maxTier: 3, allowFrom: ['nas', 'laptop'], timeoutMs: 300_000 });
});

test('a hand-edited remote setting that is not valid refuses every request (fails closed)', (t) => {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  const request = { from: 'nas', cmd: 'echo hi' };
  assert.equal(checkRemoteExec(request, remotePolicy(store), tierOne), undefined, 'runs when valid');
  for (const [key, value] of [
    ['remote.max_tier', '9'],
    ['remote.max_tier', 'all'],
    ['remote.allow_from', 'NAS!'],
    ['remote.timeout', 'forever'],
  ] as const) {
    store.config.setInternal(key, value);
    const refusal = checkRemoteExec(request, remotePolicy(store), tierOne);
    assert.equal(refusal?.tier, 4, `${key}=${value}`);
    assert.match(refusal?.reason ?? '', new RegExp(`not valid: config ${key.replace('.', '\\.')} holds`));
    store.config.unset(key);
  }
});
