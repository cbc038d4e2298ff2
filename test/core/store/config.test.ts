import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_KEYS } from '../../../node/core/store/config-keys.ts';
import { openStore } from '../../../node/core/store/store.ts';
import { ConfigError } from '../../../schemas/errors.ts';
import { isaacEnv, runIsaac } from '../../helpers/isaac.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('typed getters: each default comes from the key table, values come back typed', (t) => {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  const config = store.config;
  assert.equal(config.tier('tier.default'), Number(CONFIG_KEYS['tier.default']?.default));
  assert.equal(config.tier('remote.max_tier'), 2);
  assert.equal(config.string('shell.program'), CONFIG_KEYS['shell.program']?.default);
  assert.equal(config.number('remote.timeout'), 300);
  assert.equal(config.bool('history.record'), true);
  assert.deepEqual(config.list('remote.allow_from'), []);

  config.set('tier.default', '2.5');
  config.set('remote.allow_from', 'nas, laptop');
  config.set('history.record', 'no');
  config.set('ai.timeout', '45');
  assert.equal(config.tier('tier.default'), 2.5);
  assert.deepEqual(config.list('remote.allow_from'), ['nas', 'laptop']);
  assert.equal(config.bool('history.record'), false);
  assert.equal(config.number('ai.timeout'), 45);

  // @ts-expect-error shell.program is text, not a tier: a wrong getter does not compile
  assert.throws(() => config.tier('shell.program'));
});

test('a bad stored value is one line naming the key and the fix, never a silent fallback', (t) => {
  const store = openStore(tempDir(t));
  t.after(() => store.close());
  store.config.setInternal('tier.default', '9'); // as a hand edit of the database would
  store.config.setInternal('remote.timeout', 'soon');
  assert.throws(
    () => store.config.tier('tier.default'),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.toLine() ===
        'config tier.default holds "9", which is not valid (use one of: 1, 2, 2.5, 3, 4): ' +
          'fix it with /set config tier.default VALUE, or /unset config tier.default for the default 2',
  );
  assert.throws(() => store.config.number('remote.timeout'), /config remote\.timeout holds "soon"/);
});

test('isaac with a bad stored tier.default says so in one line and runs nothing', async (t) => {
  const ienv = isaacEnv(t);
  const store = openStore(ienv.home);
  store.config.setInternal('tier.default', '9');
  store.close();
  const r = await runIsaac(ienv, ['-c', 'echo should-not-run']);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    'isaac: config tier.default holds "9", which is not valid (use one of: 1, 2, 2.5, 3, 4): ' +
      'fix it with /set config tier.default VALUE, or /unset config tier.default for the default 2\n',
  );
  assert.equal(r.status, 78);
});
