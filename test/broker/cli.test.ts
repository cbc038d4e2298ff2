import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { loadConfig } from '../../broker/config.ts';
import { initDataDir } from '../../broker/init.ts';
import { startBroker } from '../../broker/server.ts';
import { EXIT } from '../../schemas/cli.ts';
import { certFingerprint } from '../../schemas/fingerprint.ts';
import { pinnedTlsOptions, startTestBroker } from '../helpers/broker.ts';
import { tempDir, waitFor } from '../helpers/tmp.ts';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../broker/isaac-broker.mjs');

async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('isaac-broker init prints the certificate fingerprint (as openssl computes it) and a setup token', async (t) => {
  const dir = join(tempDir(t), 'b');
  const { code, stdout } = await cli(['init', '--data', dir, '--json']);
  assert.equal(code, 0);
  const result = JSON.parse(stdout) as { fingerprint: string; setupToken: string };
  const openssl = await run('openssl', [
    'x509',
    '-in',
    join(dir, 'tls-cert.pem'),
    '-noout',
    '-fingerprint',
    '-sha256',
  ]);
  const hex = openssl.stdout.split('=')[1]?.trim().replace(/:/g, '').toLowerCase();
  assert.equal(result.fingerprint, `sha256:${hex}`);
  assert.equal(certFingerprint(readFileSync(join(dir, 'tls-cert.pem'))), result.fingerprint);
  assert.match(result.setupToken, /^[A-Za-z0-9_-]{32}$/);
  const again = await cli(['init', '--data', dir]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already initialized/);
  const help = await cli(['start', '--help']);
  assert.match(help.stdout, /--tls-port/);
  assert.match(help.stdout, /ISAAC_BROKER_PUBLISH_RATE/);
});

test('broker config: broker.json, then ISAAC_BROKER_* env, then flags; nonsense is one clear error', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'broker.json'), JSON.stringify({ publishRate: 5, tlsPort: 9000, maxQueued: 7 }));
  const config = loadConfig(
    dir,
    { tlsPort: '0' },
    { ISAAC_BROKER_PUBLISH_RATE: '9', ISAAC_BROKER_TCP_PORT: 'false' },
  );
  assert.equal(config.publishRate, 9);
  assert.equal(config.tlsPort, 0);
  assert.equal(config.tcpPort, false);
  assert.equal(config.maxQueued, 7);
  assert.throws(
    () => loadConfig(dir, { maxPayload: 'lots' }),
    /--max-payload must be a positive number, got "lots"/,
  );
  writeFileSync(join(dir, 'broker.json'), '{"tlsPrt": 1}');
  assert.throws(() => loadConfig(dir, {}), /unknown key "tlsPrt"/);
  const started = await cli(['start', '--data', dir]);
  assert.equal(started.code, EXIT.config);
  assert.match(started.stderr, /^isaac-broker: .*unknown key/);
});

test('isaac-broker start: TLS with the pinned fingerprint, loopback-only TCP, status, SIGTERM', async (t) => {
  const broker = await startTestBroker(t, { process: true, machines: ['alpha', 'beta'] });
  const beta = await broker.connect('beta', { tls: true });
  await beta.subscribeAsync('isaac/beta/msg', { qos: 1 });
  const got = new Promise<string>((r) => beta.once('message', (_t, p) => r(p.toString())));
  const alpha = await broker.connect('alpha', { tls: true });
  await alpha.publishAsync('isaac/beta/msg', 'over tls', { qos: 1 });
  assert.equal(await got, 'over tls');

  // a client pinning another fingerprint never sends its token
  const wrong = mqtt.connect(broker.tlsUrl, {
    clientId: 'alpha',
    username: 'alpha',
    password: broker.token('alpha'),
    reconnectPeriod: 0,
    ...pinnedTlsOptions(`sha256:${'0'.repeat(64)}`, broker.caPem),
  });
  const err = await new Promise<Error>((r) => wrong.once('error', r));
  wrong.end(true);
  assert.match(err.message, /fingerprint mismatch/);

  // plain TCP answers on loopback only
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (external) {
    const reachable = await new Promise<boolean>((r) => {
      const s = tcpConnect(broker.ports.tcp as number, external);
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    assert.equal(reachable, false, `TCP port must not answer on ${external}`);
  }

  await broker.tryConnect('alpha', { token: 'v1.garbage' });
  await new Promise((r) => setTimeout(r, 1200));
  const status = await cli(['status', '--data', broker.dataDir]);
  assert.equal(status.code, 0);
  assert.match(status.stdout, /running/);
  assert.match(status.stdout, /connected machines \(2\): alpha, beta/);
  assert.match(status.stdout, /malformed=1/);
  assert.match(status.stdout, /messages\/s: /);

  const exited = new Promise<number | null>((r) => broker.child?.once('exit', (code) => r(code)));
  broker.child?.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(broker.logs().some((l) => l.includes('"msg":"stopped"')));
  const after = await cli(['status', '--data', broker.dataDir]);
  assert.equal(after.code, 3);
  assert.match(after.stdout, /not running/);
});

function connectPacket(clientId: Buffer): Buffer {
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60]);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(clientId.length);
  const body = Buffer.concat([variable, idLength, clientId]);
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x10, ...length]), body]);
}

test('garbage on the socket from many connections does not crash the broker or disturb clients', async (t) => {
  const broker = await startTestBroker(t, {
    process: true,
    machines: ['alpha', 'beta'],
    limits: { connectTimeoutMs: 2000 },
  });
  const beta = await broker.connect('beta');
  await beta.subscribeAsync('isaac/beta/msg', { qos: 1 });
  let received = 0;
  beta.on('message', () => received++);
  const alpha = await broker.connect('alpha');

  const port = broker.ports.tcp as number;
  const sockets: Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  const send = (bytes: Buffer, keepOpen = false) => {
    const s = tcpConnect(port, '127.0.0.1', () => {
      s.write(bytes);
      if (!keepOpen) s.end();
    });
    s.on('error', () => undefined);
    sockets.push(s);
  };
  const full = connectPacket(Buffer.alloc(65535, 0x61));
  for (let i = 0; i < 4; i++) send(randomBytes(4096));
  for (let i = 0; i < 4; i++) send(full);
  for (let i = 0; i < 3; i++) send(full.subarray(0, 1000), true);
  send(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]), true); // PUBLISH announcing 256 MB
  send(Buffer.from([0x10, 0x02, 0x00]), true); // truncated CONNECT
  for (let i = 0; i < 3; i++) {
    const s = tlsConnect(
      { port: broker.ports.tls as number, host: '127.0.0.1', rejectUnauthorized: false },
      () => {
        s.write(randomBytes(2048));
        s.end();
      },
    );
    s.on('error', () => undefined);
    sockets.push(s as unknown as Socket);
  }
  const raw = tcpConnect(broker.ports.tls as number, '127.0.0.1', () => raw.write(randomBytes(4096)));
  raw.on('error', () => undefined);
  sockets.push(raw);

  for (let i = 0; i < 50; i++) await alpha.publishAsync('isaac/beta/msg', `m${i}`, { qos: 1 });
  await waitFor(() => received === 50, 'all 50 messages during the storm');
  assert.equal(broker.child?.exitCode, null, 'broker still running');
  assert.ok(alpha.connected && beta.connected);
  const late = await broker.connect('alpha', { clean: true, clientId: 'alpha' });
  assert.ok(late.connected, 'new logins still work');
  assert.ok(
    broker.logs().some((l) => l.includes('"reason":"oversized"')),
    'the 256 MB announcement was refused early',
  );
});

test('broker beats $SYS/<id>/heartbeat at the configured interval, which machines cannot read', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha'] });
  const aedes = broker.running?.aedes;
  assert.ok(aedes);
  const beat = await new Promise<string>((r) =>
    aedes.on('publish', (packet) => {
      if (packet.topic.endsWith('/heartbeat')) r(packet.topic);
    }),
  );
  assert.equal(beat, `$SYS/${aedes.id}/heartbeat`);
  const alpha = await broker.connect('alpha');
  const granted = await alpha
    .subscribeAsync('$SYS/+/heartbeat', { qos: 0 })
    .catch((err: { packet?: { granted?: number[] } }) => [{ qos: err.packet?.granted?.[0] }]);
  assert.equal(granted[0]?.qos, 128);
});

test('the offline queue bound holds across a restart (depth is read back from the persistence)', async (t) => {
  const first = await startTestBroker(t, {
    process: true,
    machines: ['alpha', 'beta'],
    limits: { maxQueued: 5 },
  });
  const beta = await first.connect('beta');
  await beta.subscribeAsync('isaac/beta/msg', { qos: 1 });
  await beta.endAsync();
  const alpha = await first.connect('alpha');
  for (let i = 0; i < 3; i++) await alpha.publishAsync('isaac/beta/msg', `before ${i}`, { qos: 1 });
  await first.stop();

  const second = await startTestBroker(t, {
    process: true,
    limits: { maxQueued: 5 },
    reuse: { dataDir: first.dataDir, networkKeys: first.networkKeys, secrets: first.secrets },
  });
  const alpha2 = await second.connect('alpha');
  for (let i = 0; i < 5; i++) await alpha2.publishAsync('isaac/beta/msg', `after ${i}`, { qos: 1 });
  await waitFor(
    () => second.logs().some((l) => l.includes('"reason":"queue-full"')),
    'queue-full logged',
    20_000,
  );
  const received: string[] = [];
  // listen before CONNACK: the queued messages may arrive in the same read as it
  const back = mqtt.connect(second.url, {
    clientId: 'beta',
    username: 'beta',
    password: second.token('beta'),
    clean: false,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  t.after(() => back.end(true));
  back.on('message', (_topic, payload) => received.push(payload.toString()));
  await waitFor(() => received.length >= 5, 'five messages', 20_000);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(received, ['before 0', 'before 1', 'before 2', 'after 0', 'after 1']);
});

test('a second broker on the same data dir, or on a taken TLS port, refuses to start with one clear error; a taken plain port only warns', async (t) => {
  const broker = await startTestBroker(t, { machines: ['alpha'] });
  const quiet = pino({ level: 'silent' });
  await assert.rejects(
    startBroker({ dataDir: broker.dataDir, tlsPort: 0, tcpPort: 0, logger: quiet }),
    /is in use by isaac-broker/,
  );
  const other = join(tempDir(t), 'other');
  initDataDir(other);
  await assert.rejects(
    startBroker({ dataDir: other, tlsPort: broker.ports.tls as number, tcpPort: 0, logger: quiet }),
    /port \d+ on 0\.0\.0\.0 is already in use/,
  );
  // the failed start released its lock and files. A taken plain port (Mosquitto on a NAS) does not
  // stop the TLS listener members use: the broker runs without it and says how to move it
  const warnings: string[] = [];
  const ok = await startBroker({
    dataDir: other,
    tlsPort: 0,
    tcpPort: broker.ports.tcp as number,
    logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }),
    statusFile: false,
  });
  assert.equal(ok.ports.tcp, null);
  assert.ok(typeof ok.ports.tls === 'number' && ok.ports.tls > 0);
  assert.match(warnings.join(''), /plain MQTT port \d+ on 127\.0\.0\.1 is in use.*--tcp-port false/);
  await ok.close();
  assert.ok((await broker.connect('alpha')).connected, 'the first broker was not disturbed');
});
