import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { EXIT, exitStatusOf, isaacVersion } from '../../schemas/cli.ts';
import {
  AuthError,
  ConfigError,
  IsaacError,
  NetworkError,
  ProtocolError,
  ProviderError,
  StoreError,
  UsageError,
} from '../../schemas/errors.ts';
import { PACKAGE_VERSION } from '../helpers/programs.ts';

const ROOT = resolve(import.meta.dirname, '../..');

test('one exit table: every error class has one status, and README prints the table', () => {
  assert.equal(exitStatusOf(new UsageError('x')), 2);
  assert.equal(exitStatusOf(new ConfigError('x')), EXIT.config);
  assert.equal(exitStatusOf(new NetworkError('x')), EXIT.network);
  assert.equal(exitStatusOf(new ProviderError('x')), EXIT.network);
  assert.equal(exitStatusOf(new AuthError('x')), EXIT.refused);
  assert.equal(exitStatusOf(new ProtocolError('x')), EXIT.refused);
  assert.equal(exitStatusOf(new StoreError('x')), EXIT.store);
  assert.equal(exitStatusOf(new IsaacError('x')), EXIT.failed);
  assert.equal(exitStatusOf(new TypeError('x')), EXIT.internal);
  assert.equal(EXIT.ok, 0);
  assert.equal(new Set(Object.values(EXIT)).size, Object.values(EXIT).length, 'one meaning per status');

  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('### Exit statuses')[1]?.split('\n#')[0] ?? '';
  const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  assert.deepEqual(documented, Object.values(EXIT), 'README lists every status, in order');
});

test('the version is package.json’s', () => {
  assert.match(PACKAGE_VERSION, /^\d+\.\d+\.\d+/);
  assert.equal(isaacVersion(), PACKAGE_VERSION);
});
