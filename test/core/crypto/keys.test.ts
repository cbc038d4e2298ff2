import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  generateMachineKeys,
  generateNetworkKey,
  hasKeys,
  installKeys,
  KEY_FILES,
  loadIdentity,
} from '../../../node/core/crypto/keys.ts';
import { mqttConnectOptions } from '../../../node/core/crypto/mqtt-options.ts';
import { paths } from '../../../node/core/paths.ts';
import { AuthError, ConfigError, UsageError } from '../../../schemas/errors.ts';
import { verifyToken } from '../../../schemas/token.ts';
import { tempDir } from '../../helpers/tmp.ts';

test('keys are installed owner-only and load back identical', (t) => {
  const home = tempDir(t);
  const keys = generateMachineKeys(generateNetworkKey());
  installKeys(home, keys);
  const dir = paths.keys(home);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(dir).sort(), Object.values(KEY_FILES).sort());
  for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  assert.deepEqual(
    readdirSync(home).filter((f) => f.startsWith('keys')),
    ['keys'],
    'no staging directory left',
  );
  const loaded = loadIdentity(home);
  assert.deepEqual(loaded.sign, keys.sign);
  assert.deepEqual(loaded.box, keys.box);
  assert.deepEqual(loaded.loginSecret, keys.loginSecret);
  assert.deepEqual(loaded.network, keys.network);
});

test('an empty leftover keys directory is replaced; one with stray files is left alone', (t) => {
  const home = tempDir(t);
  mkdirSync(paths.keys(home), { recursive: true });
  installKeys(home, generateMachineKeys());
  assert.equal(hasKeys(home), true);
  const other = tempDir(t);
  mkdirSync(paths.keys(other), { recursive: true });
  writeFileSync(join(paths.keys(other), 'old-backup.key'), 'x');
  assert.throws(
    () => installKeys(other, generateMachineKeys()),
    (err: unknown) => err instanceof UsageError && /move that directory away/.test(err.toLine()),
  );
  assert.deepEqual(readdirSync(paths.keys(other)), ['old-backup.key']);
  assert.deepEqual(
    readdirSync(other).filter((f) => f.startsWith('keys')),
    ['keys'],
  );
});

test('a machine without the network key loads with network undefined', (t) => {
  const home = tempDir(t);
  installKeys(home, generateMachineKeys());
  assert.equal(loadIdentity(home).network, undefined);
  assert.equal(existsSync(join(paths.keys(home), KEY_FILES.network)), false);
});

test('a key file readable by others is refused with the chmod that fixes it', (t) => {
  const home = tempDir(t);
  installKeys(home, generateMachineKeys(generateNetworkKey()));
  for (const file of Object.values(KEY_FILES)) {
    const path = join(paths.keys(home), file);
    for (const mode of [0o644, 0o640, 0o602]) {
      chmodSync(path, mode);
      assert.throws(
        () => loadIdentity(home),
        (err: unknown) =>
          err instanceof AuthError &&
          err.toLine().endsWith(`chmod 600 ${path}`) &&
          err.message.includes(mode.toString(8)),
      );
    }
    chmodSync(path, 0o600);
  }
  chmodSync(paths.keys(home), 0o755);
  assert.throws(
    () => loadIdentity(home),
    (err: unknown) => err instanceof AuthError && err.toLine().endsWith(`chmod 700 ${paths.keys(home)}`),
  );
  chmodSync(paths.keys(home), 0o700);
  assert.ok(loadIdentity(home).sign.publicKey.length === 32);
});

test('existing keys are never overwritten; missing or corrupt files say what to do', (t) => {
  const home = tempDir(t);
  assert.throws(
    () => loadIdentity(home),
    (err: unknown) => err instanceof ConfigError && /isaac-node init/.test(err.toLine()),
  );
  const first = generateMachineKeys();
  installKeys(home, first);
  assert.equal(hasKeys(home), true);
  assert.throws(() => installKeys(home, generateMachineKeys()), UsageError);
  assert.deepEqual(loadIdentity(home).sign, first.sign);
  const box = join(paths.keys(home), KEY_FILES.box);
  writeFileSync(box, 'not base64 at all\n', { mode: 0o600 });
  assert.throws(
    () => loadIdentity(home),
    (err: unknown) => err instanceof ConfigError && err.message.includes(box),
  );
});

test('MQTT login options: fresh token each call, TLS pinned, plain TCP only to loopback', () => {
  const secret = new Uint8Array(32).fill(9);
  const a = mqttConnectOptions({ url: 'mqtt://127.0.0.1:1883', name: 'alice', secret });
  const b = mqttConnectOptions({ url: 'mqtt://127.0.0.1:1883', name: 'alice', secret });
  assert.equal(a.clientId, 'alice');
  assert.equal(a.username, 'alice');
  assert.equal(a.clean, false);
  assert.notEqual(a.password, b.password);
  assert.equal(verifyToken(String(a.password), 'alice', secret).ok, true);
  assert.throws(
    () => mqttConnectOptions({ url: 'mqtt://nas.local:1883', name: 'alice', secret }),
    /refusing plain mqtt:\/\/ to nas.local/,
  );
  assert.equal(
    mqttConnectOptions({ url: 'mqtt://nas.local:1883', name: 'alice', secret, insecure: true }).clientId,
    'alice',
  );
  assert.throws(
    () => mqttConnectOptions({ url: 'mqtts://nas.local:8883', name: 'alice', secret }),
    ConfigError,
  );
  const pinned = mqttConnectOptions({
    url: 'mqtts://nas.local:8883',
    name: 'alice',
    secret,
    fingerprint: `sha256:${'ab'.repeat(32)}`,
    certPem: 'PEM',
  });
  assert.equal(pinned.rejectUnauthorized, true);
  assert.equal(typeof (pinned as { checkServerIdentity?: unknown }).checkServerIdentity, 'function');
});
