import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import nacl from 'tweetnacl';
import { initDataDir } from '../../../broker/init.ts';
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../../../broker/tls.ts';
import { loadIdentity } from '../../../node/core/crypto/keys.ts';
import { mqttConnectOptions, refreshTokenOnReconnect } from '../../../node/core/crypto/mqtt-options.ts';
import { sendAdminRequest } from '../../../node/core/identity/broker-ops.ts';
import { loadNetworkSettings, type NetworkSettings } from '../../../node/core/identity/settings.ts';
import { paths } from '../../../node/core/paths.ts';
import { openStore } from '../../../node/core/store/store.ts';
import { initNetwork, joinNetwork } from '../../../node/daemon/identity/init.ts';
import { runInviteCommand, runRevokeCommand } from '../../../node/shell/identity/commands.ts';
import { createInvite, revokeMachine } from '../../../node/shell/identity/membership.ts';
import { createAdminRequest } from '../../../schemas/admin.ts';
import { AuthError, errorLine, NetworkError, UsageError } from '../../../schemas/errors.ts';
import { decodeInvite, encodeInvite } from '../../../schemas/invite.ts';
import { type RosterEntry, rosterSupersedes, verifyRosterEntry } from '../../../schemas/roster.ts';
import { startTestBroker, type TestBroker } from '../../helpers/broker.ts';
import { captureIO } from '../../helpers/capture-io.ts';
import { machineLogin } from '../../helpers/node-procs.ts';
import { freePort, tempDir, waitFor } from '../../helpers/tmp.ts';

/** Real isaac-broker (in-process) on ephemeral ports, real TLS, real SQLite homes. */
const cleanups: (() => unknown)[] = [];
const suite = { after: (fn: () => unknown) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
let broker: TestBroker;
let setupToken: string;
let otherBroker: TestBroker;

function settingsOf(home: string): NetworkSettings | undefined {
  const store = openStore(home);
  try {
    return loadNetworkSettings(store);
  } finally {
    store.close();
  }
}

/** "Nothing half-configured": no keys, no staging dir, no network settings. */
function assertUntouched(home: string): void {
  assert.equal(existsSync(paths.keys(home)), false, 'no keys directory');
  assert.deepEqual(
    existsSync(home) ? readdirSync(home).filter((f) => f.startsWith('keys')) : [],
    [],
    'no staging directory',
  );
  if (existsSync(paths.database(home))) assert.equal(settingsOf(home), undefined, 'no network settings');
}

async function connectAs(home: string, url: string): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    ...machineLogin(home, url).options,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  return await new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

async function retainedRoster(client: MqttClient, names: string[]): Promise<Map<string, Uint8Array>> {
  const seen = new Map<string, Uint8Array>();
  client.on('message', (topic, payload) => seen.set(topic.split('/')[2] as string, new Uint8Array(payload)));
  await client.subscribeAsync('isaac/roster/+', { qos: 1 });
  await waitFor(() => names.every((n) => seen.has(n)), `roster entries of ${names.join(', ')}`);
  return seen;
}

before(async () => {
  const dataDir = join(tempDir(suite, 'isaac-idnet-'), 'data');
  setupToken = initDataDir(dataDir).setupToken;
  broker = await startTestBroker(suite, {
    reuse: { dataDir, networkKeys: nacl.sign.keyPair(), secrets: new Map() },
  });
  otherBroker = await startTestBroker(suite);
});

describe('init, invite, join, revoke against a real broker', () => {
  let homeA: string;
  let homeB: string;
  let code: string;
  let betaEntry: RosterEntry | undefined;

  test('init with the wrong fingerprint is refused before anything is sent, and leaves nothing', async (t) => {
    homeA = join(tempDir(t), 'a');
    const wrong = otherBroker.fingerprint;
    await assert.rejects(
      initNetwork({ home: homeA, brokers: [broker.tlsUrl], fingerprint: wrong, setupToken, name: 'alpha' }),
      (err: unknown) =>
        err instanceof AuthError &&
        /presented certificate sha256:[0-9a-f]{64}, not the pinned/.test(err.message),
    );
    assertUntouched(homeA);
    await assert.rejects(
      initNetwork({
        home: homeA,
        brokers: [broker.tlsUrl],
        fingerprint: 'sha256:abc',
        setupToken,
        name: 'alpha',
      }),
      (err: unknown) =>
        err instanceof UsageError && /is not a certificate fingerprint: give sha256:/.test(errorLine(err)),
    );
    await assert.rejects(
      initNetwork({
        home: homeA,
        brokers: ['mqtt://nas.example:1883'],
        fingerprint: broker.fingerprint,
        setupToken,
        name: 'alpha',
      }),
      (err: unknown) =>
        err instanceof UsageError && /refusing plain mqtt:\/\/ to nas.example/.test(err.message),
    );
    assertUntouched(homeA);
  });

  test('init with a wrong setup token is refused by the broker, and leaves nothing', async (t) => {
    homeA = join(tempDir(t), 'a');
    await assert.rejects(
      initNetwork({
        home: homeA,
        brokers: [broker.tlsUrl],
        fingerprint: broker.fingerprint,
        setupToken: 'guessed',
        name: 'alpha',
      }),
      (err: unknown) =>
        err instanceof AuthError && /refused the network setup: check the setup token/.test(errorLine(err)),
    );
    assertUntouched(homeA);
  });

  test('init creates the network: owner-only keys, settings, a retained signed roster entry', async () => {
    homeA = join(tempDir(suite), 'a');
    const result = await initNetwork({
      home: homeA,
      brokers: [broker.tlsUrl],
      fingerprint: broker.fingerprint,
      setupToken,
      name: 'alpha',
    });
    assert.equal(result.rosterPublished, true, result.warning);
    const keys = loadIdentity(homeA);
    assert.ok(keys.network);
    const settings = settingsOf(homeA);
    assert.ok(settings);
    assert.equal(settings.name, 'alpha');
    assert.deepEqual(settings.brokers, [broker.tlsUrl]);
    assert.equal(settings.fingerprint, broker.fingerprint);
    assert.equal(
      settings.certPem?.replace(/\s/g, ''),
      readFileSync(join(broker.dataDir, TLS_CERT_FILE), 'utf8').replace(/\s/g, ''),
    );
    assert.deepEqual(settings.networkPk, keys.network.publicKey);
    // a second init on the same machine changes nothing
    await assert.rejects(
      initNetwork({
        home: homeA,
        brokers: [broker.tlsUrl],
        fingerprint: broker.fingerprint,
        setupToken,
        name: 'other',
      }),
      UsageError,
    );
    const client = await connectAs(homeA, broker.tlsUrl);
    const roster = await retainedRoster(client, ['alpha']);
    client.end(true);
    const entry = verifyRosterEntry(roster.get('alpha') as Uint8Array, keys.network.publicKey, 'alpha');
    assert.deepEqual(entry.signPk, keys.sign.publicKey);
    assert.deepEqual(entry.boxPk, keys.box.publicKey);
  });

  test('a damaged, expired or foreign-broker invite is refused with one line and leaves nothing', async (t) => {
    code = createInvite(homeA, 'beta');
    homeB = join(tempDir(t), 'b');
    const typo = `${code.slice(0, 30)}${code[30] === 'A' ? 'B' : 'A'}${code.slice(31)}`;
    await assert.rejects(joinNetwork({ home: homeB, code: typo }), (err: unknown) => {
      return (
        err instanceof UsageError &&
        errorLine(err) ===
          'invite code is damaged (checksum): copy it again, the whole line starting with isaac2-'
      );
    });
    assertUntouched(homeB);
    await assert.rejects(
      joinNetwork({ home: homeB, code, nowMs: Date.now() + 2 * 86_400_000 }),
      /invite code expired/,
    );
    assertUntouched(homeB);
    // the same invite pointed at another broker: its certificate does not match the pin
    const invite = decodeInvite(code);
    const foreign = encodeInvite({ ...invite, brokers: [otherBroker.tlsUrl] });
    await assert.rejects(
      joinNetwork({ home: homeB, code: foreign }),
      (err: unknown) => err instanceof AuthError && /presented certificate/.test(err.message),
    );
    assertUntouched(homeB);
    const dead = encodeInvite({ ...invite, brokers: [`mqtts://127.0.0.1:${await freePort()}`] });
    await assert.rejects(
      joinNetwork({ home: homeB, code: dead }),
      (err: unknown) => err instanceof NetworkError && /cannot reach the broker/.test(errorLine(err)),
    );
    assertUntouched(homeB);
  });

  test('join enrolls the new machine, which logs in and publishes its roster entry', async () => {
    homeB = join(tempDir(suite), 'b');
    // the first broker URL is dead: join fails over to the next one
    const dead = `mqtts://127.0.0.1:${await freePort()}`;
    const result = await joinNetwork({
      home: homeB,
      code: encodeInvite({ ...decodeInvite(code), brokers: [dead, broker.tlsUrl] }),
    });
    assert.equal(result.name, 'beta');
    assert.deepEqual(result.brokers, [dead, broker.tlsUrl]);
    assert.equal(result.rosterPublished, true, result.warning);
    const keysA = loadIdentity(homeA);
    const keysB = loadIdentity(homeB);
    assert.equal(keysB.network, undefined, 'a member joined with an invite holds no network key');
    const client = await connectAs(homeA, broker.tlsUrl);
    const roster = await retainedRoster(client, ['alpha', 'beta']);
    client.end(true);
    const entry = verifyRosterEntry(
      roster.get('beta') as Uint8Array,
      keysA.network?.publicKey as Uint8Array,
      'beta',
    );
    assert.deepEqual(entry.boxPk, keysB.box.publicKey);
    assert.equal(entry.invite?.name, 'beta', 'its entry proves the invite');
    assert.equal(entry.admin, undefined);
    // what isaac-node does with every verified roster entry it receives
    const store = openStore(homeA);
    store.machines.applyRoster(entry);
    store.close();
    betaEntry = entry;
    (await connectAs(homeB, broker.tlsUrl)).end(true);
    assert.throws(() => createInvite(homeA, 'alpha'), UsageError);
  });

  test('isaac invite prints a working code; isaac revoke asks first and does nothing on no', async () => {
    const io = captureIO();
    const store = openStore(homeA);
    const ctx = { store, env: {}, assumeYes: false, io };
    try {
      assert.equal(await runInviteCommand(['gamma', '--hours', '2'], ctx), 0);
      const printed = io.text.match(/isaac-node join (isaac2-\S+)/)?.[1];
      assert.ok(printed, io.text);
      const invite = decodeInvite(printed);
      assert.equal(invite.name, 'gamma');
      assert.ok(Math.abs(invite.expires - Date.now() - 2 * 3_600_000) < 60_000);
      await assert.rejects(runInviteCommand([], ctx), UsageError);
      assert.equal(await runRevokeCommand(['beta'], ctx), 1);
      assert.equal(store.machines.get('beta')?.revoked, null);
    } finally {
      store.close();
    }
    (await connectAs(homeB, broker.tlsUrl)).end(true);
  });

  test('revoke cuts the machine off at the broker and yields a signed revoked entry', async () => {
    const result = await revokeMachine(homeA, 'beta');
    const keysA = loadIdentity(homeA);
    const entry = verifyRosterEntry(result.rosterEntry, keysA.network?.publicKey as Uint8Array, 'beta');
    assert.equal(result.topic, 'isaac/roster/beta');
    assert.ok(entry.revoked !== undefined);
    // same keys and enrollment time as beta's entry, so it supersedes that entry everywhere
    assert.deepEqual(entry.signPk, loadIdentity(homeB).sign.publicKey);
    assert.equal(rosterSupersedes(betaEntry, entry), true);
    assert.equal(rosterSupersedes(entry, betaEntry as RosterEntry), false);
    await assert.rejects(connectAs(homeB, broker.tlsUrl), (err: Error & { code?: number }) => err.code === 5);
    // the broker published the signed revocation retained, so every member (and later joiners) see it
    const alpha = await connectAs(homeA, broker.tlsUrl);
    try {
      const retained = await new Promise<Buffer>((resolve) => {
        alpha.on('message', (topic, payload) => {
          if (topic === 'isaac/roster/beta') resolve(payload);
        });
        alpha.subscribe('isaac/roster/beta', { qos: 1 });
      });
      const published = verifyRosterEntry(retained, keysA.network?.publicKey as Uint8Array, 'beta');
      assert.equal(published.revoked, entry.revoked);
    } finally {
      alpha.end(true);
    }
    const store = openStore(homeA);
    assert.equal(store.machines.get('beta')?.status, 'revoked');
    store.close();
    await assert.rejects(revokeMachine(homeA, 'alpha'), UsageError);
    await assert.rejects(
      revokeMachine(homeA, 'nobody'),
      (err: unknown) => err instanceof AuthError && /does not know nobody/.test(errorLine(err)),
    );
  });
});

describe('the certificate pin fails closed', () => {
  async function impostor(t: {
    after(fn: () => unknown): void;
  }): Promise<{ url: string; received: Buffer[] }> {
    const received: Buffer[] = [];
    const server = createTlsServer(
      {
        key: readFileSync(join(otherBroker.dataDir, TLS_KEY_FILE)),
        cert: readFileSync(join(otherBroker.dataDir, TLS_CERT_FILE)),
      },
      (socket) => {
        socket.on('data', (d: Buffer) => received.push(d));
        socket.on('error', () => undefined);
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.after(() => server.close());
    return { url: `mqtts://127.0.0.1:${(server.address() as { port: number }).port}`, received };
  }

  test('an admin request (with a machine secret inside) never reaches a server with another certificate', async (t) => {
    const { url, received } = await impostor(t);
    const certPem = readFileSync(join(broker.dataDir, TLS_CERT_FILE), 'utf8');
    const request = createAdminRequest(
      { op: 'enroll', name: 'gamma', secret: new Uint8Array(32).fill(1) },
      nacl.sign.keyPair().secretKey,
    );
    await assert.rejects(
      sendAdminRequest(
        { brokers: [url], fingerprint: broker.fingerprint, certPem, insecure: false },
        request,
        'enrollment',
        'x',
      ),
      (err: unknown) =>
        err instanceof AuthError && /presented a certificate other than the pinned one/.test(err.message),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(Buffer.concat(received).length, 0);
  });

  test('a server with another certificate never receives a byte of the login', async (t) => {
    const { url, received } = await impostor(t);
    const client = mqtt.connect(url, {
      ...mqttConnectOptions({
        url,
        name: 'alpha',
        secret: new Uint8Array(32),
        fingerprint: broker.fingerprint,
        certPem: readFileSync(join(broker.dataDir, TLS_CERT_FILE), 'utf8'),
      }),
      reconnectPeriod: 0,
    });
    const error = await new Promise<Error>((resolve) => client.once('error', resolve));
    client.end(true);
    await new Promise((r) => setTimeout(r, 200));
    assert.match(error.message, /self-signed|certificate|pinned/);
    assert.equal(Buffer.concat(received).length, 0, 'no CONNECT (and so no token) reached the impostor');
  });
});

describe('tokens on reconnect', () => {
  async function reconnectOutcome(refresh: boolean): Promise<'reconnected' | 'refused'> {
    const secret = await otherBroker.enroll(refresh ? 'tok-fresh' : 'tok-stale');
    const name = refresh ? 'tok-fresh' : 'tok-stale';
    const certPem = readFileSync(join(otherBroker.dataDir, TLS_CERT_FILE), 'utf8');
    const client = mqtt.connect(otherBroker.tlsUrl, {
      ...mqttConnectOptions({
        url: otherBroker.tlsUrl,
        name,
        secret,
        fingerprint: otherBroker.fingerprint,
        certPem,
      }),
      clean: true,
      reconnectPeriod: 100,
      connectTimeout: 5000,
    });
    client.on('error', () => undefined);
    if (refresh) refreshTokenOnReconnect(client, name, secret);
    try {
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      const next = new Promise<'reconnected' | 'refused'>((resolve) => {
        client.once('connect', () => resolve('reconnected'));
        client.on('error', (err: Error & { code?: number }) => {
          if (err.code === 4) resolve('refused');
        });
      });
      client.stream.destroy(); // the connection drops; MQTT.js reconnects with its saved options
      return await next;
    } finally {
      client.end(true);
    }
  }

  test('MQTT.js reconnecting with the saved options replays the token and is refused', async () => {
    assert.equal(await reconnectOutcome(false), 'refused');
  });

  test('refreshTokenOnReconnect gives every reconnect a fresh token', async () => {
    assert.equal(await reconnectOutcome(true), 'reconnected');
  });
});
