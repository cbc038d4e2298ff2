/**
 * The failed-login throttle (issue 11) against real `isaac-broker start` processes: a flood of bad
 * tokens from one address is refused unread after a few failures, with waits that double; a
 * machine logging in from another address is not harmed; the flooded name is held back too and a
 * good login clears it; the log summarises instead of writing a line per attempt; `isaac-broker
 * status` shows the settings (layered: flag, environment, broker.json) and who is held back.
 * In cluster mode the throttle is per broker instance.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import nacl from 'tweetnacl';
import { clearRedisPrefix } from '../../broker/cluster.ts';
import { initDataDir } from '../../broker/init.ts';
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../../broker/tls.ts';
import { createAdminRequest } from '../../schemas/admin.ts';
import { mintToken } from '../../schemas/token.ts';
import { type ConnectOptions, startTestBroker, type TestBroker } from '../helpers/broker.ts';
import { tempDir, waitFor } from '../helpers/tmp.ts';

const BIN = resolve(import.meta.dirname, '../../broker/isaac-broker.mjs');
const run = promisify(execFile);
const REDIS = 'redis://127.0.0.1:6379';

/** Over TLS, from another loopback address (tls.connect takes localAddress; Linux routes 127/8). */
const from = (address: string, extra: ConnectOptions = {}): ConnectOptions =>
  ({ tls: true, localAddress: address, ...extra }) as ConnectOptions;

const badToken = (name: string) => mintToken(name, randomBytes(32));

async function status(dataDir: string): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, 'status', '--data', dataDir]);
  return stdout;
}

async function codeOf(broker: TestBroker, name: string, options: ConnectOptions): Promise<number> {
  const { code, client } = await broker.tryConnect(name, options);
  client.end(true);
  return code;
}

test('200 bad logins from one address are refused unread after a few; another machine from another address logs in at once; status and the log say so', async (t) => {
  const dataDir = join(tempDir(t, 'isaac-throttle-'), 'data');
  const { setupToken } = initDataDir(dataDir);
  // layered configuration: broker.json, then the environment, then a flag
  writeFileSync(join(dataDir, 'broker.json'), JSON.stringify({ loginBackoffMs: 1000 }));
  const broker = await startTestBroker(t, {
    process: true,
    reuse: { dataDir, networkKeys: nacl.sign.keyPair(), secrets: new Map() },
    args: ['--login-free-failures', '5'],
    env: { ISAAC_BROKER_LOGIN_BACKOFF_MAX_MS: '20000' },
  });
  await bindAndEnroll(broker, setupToken, 'alpha', ['beta']);

  const codes: number[] = [];
  const began = Date.now();
  for (let i = 0; i < 200; i++)
    codes.push(await codeOf(broker, 'alpha', from('127.0.0.1', { token: badToken('alpha') })));
  const floodMs = Date.now() - began;
  const checked = codes.filter((c) => c === 4).length;
  const throttled = codes.filter((c) => c === 3).length;
  assert.deepEqual(codes.slice(0, 5), [4, 4, 4, 4, 4], 'five failures are free');
  assert.equal(codes[5], 3, 'the sixth attempt right after is refused as throttled (CONNACK 3)');
  assert.equal(checked + throttled, 200, `only refusals: ${codes.join(',')}`);
  // blocks of 1, 2, 4, 8 s...: however slow this machine is, only a handful are checked
  assert.ok(
    checked <= 5 + Math.ceil(Math.log2(floodMs / 1000 + 1)) + 1,
    `${checked} of 200 checked in ${floodMs} ms`,
  );

  // beta, from another address, is not harmed: accepted at once
  const t0 = Date.now();
  assert.equal(await codeOf(broker, 'beta', from('127.0.0.2')), 0);
  assert.ok(Date.now() - t0 < 5000, 'no wait for beta');
  // alpha's name is held back too, even from a fresh address with a good token...
  assert.equal(await codeOf(broker, 'alpha', from('127.0.0.3')), 3);

  const shown = String(
    await waitFor(async () => {
      const s = await status(dataDir);
      return /throttled now: .*address 127\.0\.0\.1/.test(s) ? s : undefined;
    }, 'status to show the throttled address'),
  );
  assert.match(
    shown,
    /login throttle \(this broker instance\): 5 failed logins free per name and per address, then refused for 1 s doubling up to 20 s/,
  );
  assert.match(shown, /name alpha \(\d+ failed/);
  assert.match(shown, /refusals: .*throttled=\d+/);
  const json = JSON.parse(
    (await run(process.execPath, [BIN, 'status', '--data', dataDir, '--json'])).stdout,
  ) as {
    throttle: { throttled: number; settings: { loginBackoffMaxMs: number } };
  };
  assert.ok(json.throttle.throttled >= throttled);
  assert.equal(json.throttle.settings.loginBackoffMaxMs, 20_000);

  // ...until its wait is over; then a good login is accepted and clears the name's count
  await waitFor(
    async () => (await codeOf(broker, 'alpha', from('127.0.0.3'))) === 0,
    'alpha back in',
    60_000,
  );
  assert.equal(
    await codeOf(broker, 'alpha', from('127.0.0.4', { token: badToken('alpha') })),
    4,
    'checked again',
  );

  // a line per attempt? no: a budget of lines, then one summary (written at the latest on stop)
  await broker.stop();
  const refusedLines = broker.logs().filter((l) => l.includes('"login refused"'));
  assert.ok(refusedLines.length <= 25, `${refusedLines.length} refusal lines for 200 attempts`);
  const summary = broker.logs().find((l) => l.includes('not logged one by one'));
  assert.ok(summary, 'a summary line');
  assert.match(summary, /throttled \d+/);
  assert.match(summary, /127\.0\.0\.1 \(\d+\)/);
});

test('a bad throttle setting is refused at start, naming where it came from and the fix', async (t) => {
  const dataDir = join(tempDir(t, 'isaac-throttle-'), 'data');
  initDataDir(dataDir);
  writeFileSync(join(dataDir, 'broker.json'), JSON.stringify({ loginBackoffMaxMs: 500 }));
  const refused = await run(
    process.execPath,
    [BIN, 'start', '--data', dataDir, '--tls-port', '0', '--tcp-port', '0'],
    {
      env: { ...process.env, ISAAC_BROKER_LOGIN_BACKOFF_MS: '2000' },
    },
  ).then(
    () => assert.fail('started'),
    (err: { code: number; stderr: string }) => err,
  );
  assert.equal(refused.code, 78);
  assert.match(
    refused.stderr,
    /loginBackoffMaxMs 500 \(.*broker\.json: loginBackoffMaxMs\) is below loginBackoffMs 2000 \(ISAAC_BROKER_LOGIN_BACKOFF_MS\): raise loginBackoffMaxMs/,
  );
  const flag = await run(process.execPath, [
    BIN,
    'start',
    '--data',
    dataDir,
    '--login-free-failures',
    '2.5',
  ]).then(
    () => assert.fail('started'),
    (err: { code: number; stderr: string }) => err,
  );
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--login-free-failures must be a whole number, got "2.5"/);
});

test('cluster mode: the throttle holds per broker instance', async (t) => {
  const prefix = `isaac-test-${randomBytes(6).toString('hex')}:`;
  const args = ['--redis', `${REDIS}/0?prefix=${prefix}`];
  const started: TestBroker[] = [];
  t.after(async () => {
    for (const broker of started) await broker.kill();
    await clearRedisPrefix(REDIS, prefix);
  });
  const broker1 = await startTestBroker(t, { process: true, machines: ['a', 'b'], args });
  started.push(broker1);
  const dir2 = join(tempDir(t), 'data');
  mkdirSync(dir2, { mode: 0o700 });
  for (const file of [TLS_CERT_FILE, TLS_KEY_FILE])
    copyFileSync(join(broker1.dataDir, file), join(dir2, file));
  const broker2 = await startTestBroker(t, {
    process: true,
    reuse: { dataDir: dir2, networkKeys: broker1.networkKeys, secrets: broker1.secrets },
    args,
  });
  started.push(broker2);

  const codes: number[] = [];
  for (let i = 0; i < 30; i++)
    codes.push(await codeOf(broker1, 'a', from('127.0.0.1', { token: badToken('a') })));
  assert.ok(codes.filter((c) => c === 3).length >= 20, `broker 1 throttles: ${codes.join(',')}`);
  // b logs in at broker 1 from another address, and at broker 2
  assert.equal(await codeOf(broker1, 'b', from('127.0.0.2')), 0);
  assert.equal(await codeOf(broker2, 'b', from('127.0.0.1')), 0);
  // broker 2 keeps its own count: the address flooded at broker 1 is checked there
  assert.equal(await codeOf(broker2, 'a', from('127.0.0.1', { token: badToken('a') })), 4);
  const s1 = String(
    await waitFor(async () => {
      const s = await status(broker1.dataDir);
      return /throttled now: address 127\.0\.0\.1/.test(s) ? s : undefined;
    }, 'broker 1 status'),
  );
  assert.match(s1, /login throttle \(this broker instance\)/);
  assert.match(await status(dir2), /throttled now: -/);
});

/** Binds the network as `first` with the data dir's setup token, then enrolls `others` with invites. */
async function bindAndEnroll(broker: TestBroker, setupToken: string, first: string, others: string[]) {
  const secret = new Uint8Array(randomBytes(32));
  const { networkKeys } = broker;
  const bind = createAdminRequest(
    { op: 'bind', name: first, secret, networkPk: networkKeys.publicKey, setupToken },
    networkKeys.secretKey,
  );
  assert.equal(await broker.admin(bind), 0);
  broker.secrets.set(first, secret);
  for (const name of others) await broker.enroll(name);
}
