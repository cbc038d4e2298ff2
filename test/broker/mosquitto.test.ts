import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join, resolve } from 'node:path';
import test from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, tempDir, waitFor } from '../helpers/tmp.ts';

const DEPLOY = resolve(import.meta.dirname, '../../deploy');
const MOSQUITTO = '/usr/sbin/mosquitto';
const available = existsSync(MOSQUITTO) && existsSync('/usr/bin/mosquitto_passwd');

/**
 * deploy/mosquitto.conf as shipped: its global part with our paths, and its loopback listener
 * block (with its per-listener options) moved to the test's ephemeral port.
 */
function testConfig(dir: string, port: number): string {
  const lines = readFileSync(join(DEPLOY, 'mosquitto.conf'), 'utf8').split('\n');
  const firstListener = lines.findIndex((l) => l.startsWith('listener '));
  const pathLike = /^(password_file|acl_file|persistence_location|log_dest|user)\b/;
  const global = lines.slice(0, firstListener).filter((l) => !pathLike.test(l.trim()));
  const loopback = lines.findIndex((l) => /^listener \d+ 127\.0\.0\.1$/.test(l));
  assert.ok(loopback > 0, 'deploy/mosquitto.conf has a loopback listener');
  const end = lines.findIndex((l, i) => i > loopback && l.trim() === '');
  const block = lines.slice(loopback + 1, end === -1 ? undefined : end);
  return [
    ...global,
    `password_file ${join(dir, 'passwd')}`,
    `acl_file ${join(DEPLOY, 'mosquitto.acl')}`,
    `persistence_location ${dir}/`,
    'log_dest stderr',
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    `listener ${port} 127.0.0.1`,
    ...block,
    '',
  ].join('\n');
}

async function subackCode(client: MqttClient, topic: string): Promise<number | undefined> {
  try {
    return (await client.subscribeAsync(topic, { qos: 1 }))[0]?.qos;
  } catch (err) {
    return (err as { packet?: { granted?: number[] } }).packet?.granted?.[0];
  }
}

test(available
  ? 'mosquitto with deploy/mosquitto.conf + .acl enforces the same topic rules'
  : 'mosquitto test skipped: mosquitto not installed', { skip: !available }, async (t) => {
  const dir = tempDir(t, 'isaac-mosquitto-');
  const passwd = join(dir, 'passwd');
  const passwords: Record<string, string> = {
    alpha: 'alpha-pw',
    beta: 'beta-pw',
    watcher: 'watcher-pw',
    homeassistant: 'ha-pw',
  };
  writeFileSync(passwd, '');
  for (const [user, pw] of Object.entries(passwords))
    execFileSync('mosquitto_passwd', ['-b', passwd, user, pw]);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, testConfig(dir, port));
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  t.after(() => {
    child.kill('SIGKILL');
  });
  await waitFor(
    () =>
      new Promise<boolean>((r) => {
        if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
        const s = tcpConnect(port, '127.0.0.1', () => {
          s.destroy();
          r(true);
        });
        s.on('error', () => r(false));
      }),
    'mosquitto listening',
  );

  const clients: MqttClient[] = [];
  t.after(() => {
    for (const c of clients) c.end(true);
  });
  const connect = (user: string, password = passwords[user] ?? 'x', clientId = user) =>
    new Promise<{ code: number; client: MqttClient }>((r) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
        clientId,
        username: user,
        password,
        clean: true,
        reconnectPeriod: 0,
        protocolVersion: 4,
      });
      clients.push(client);
      client.once('connect', () => r({ code: 0, client }));
      client.once('error', (err: Error & { code?: number }) => r({ code: err.code ?? -1, client }));
    });
  const seenBy = (client: MqttClient): string[] => {
    const seen: string[] = [];
    client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    return seen;
  };

  // logins: unknown user and wrong password refused (Mosquitto answers 5 "not authorized")
  assert.equal((await connect('stranger', 'nope')).code, 5);
  assert.equal((await connect('alpha', 'wrong')).code, 5);

  const { client: alpha } = await connect('alpha');
  const { client: beta } = await connect('beta');
  const { client: watcher } = await connect('watcher');
  const alphaSeen = seenBy(alpha);
  const betaSeen = seenBy(beta);
  const watcherSeen = seenBy(watcher);
  const { client: ha } = await connect('homeassistant');
  const haSeen = seenBy(ha);
  await ha.subscribeAsync(['isaac/+/status', 'homeassistant/#', 'isaac/+/exec'], { qos: 1 });

  // Mosquitto 2.0's ACL file does not check SUBSCRIBE itself (it grants the SUBACK) but delivers
  // nothing the read rules deny, so these subscriptions must bring alpha nothing of beta's
  for (const topic of ['isaac/beta/exec', 'isaac/beta/msg', '#', 'isaac/#', 'isaac/+/exec', 'isaac/+/+']) {
    assert.notEqual(await subackCode(alpha, topic), undefined, `alpha subscribing ${topic}`);
  }
  for (const topic of [
    'isaac/alpha/exec',
    'isaac/alpha/msg',
    'isaac/+/status',
    'isaac/roster/+',
    'homeassistant/status',
  ]) {
    assert.equal(await subackCode(alpha, topic), 1, `alpha subscribing ${topic} is allowed`);
  }
  await beta.subscribeAsync(['isaac/beta/exec', 'isaac/beta/msg'], { qos: 1 });
  await watcher.subscribeAsync(['isaac/+/status', 'isaac/roster/+', 'homeassistant/+/+/+/config'], {
    qos: 1,
  });

  // refused publishes: Mosquitto drops them (MQTT 3.1.1 has no way to say no to a PUBLISH)
  await alpha.publishAsync('isaac/beta/status', 'forged', { qos: 1, retain: true });
  await alpha.publishAsync('isaac/roster/beta', 'forged', { qos: 1, retain: true });
  await alpha.publishAsync('homeassistant/sensor/beta/cpu/config', 'forged', { qos: 1, retain: true });
  await alpha.publishAsync('random/topic', 'x', { qos: 1 });
  // allowed ones
  await alpha.publishAsync('isaac/beta/exec', 'run this', { qos: 1 });
  await alpha.publishAsync('isaac/alpha/status', 'online', { qos: 1, retain: true });
  await alpha.publishAsync('isaac/roster/alpha', 'entry', { qos: 1, retain: true });
  await alpha.publishAsync('homeassistant/sensor/alpha/cpu/config', '{}', { qos: 1, retain: true });
  await beta.publishAsync('isaac/alpha/msg', 'hi alpha', { qos: 1 });

  await waitFor(
    () => betaSeen.length >= 1 && watcherSeen.length >= 2 && alphaSeen.length >= 3 && haSeen.length >= 2,
    'allowed deliveries',
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(betaSeen, ['isaac/beta/exec run this']);
  // machines do not read discovery configs; Home Assistant reads those and statuses, no inbox
  assert.deepEqual(watcherSeen.sort(), ['isaac/alpha/status online', 'isaac/roster/alpha entry']);
  assert.deepEqual(haSeen.sort(), ['homeassistant/sensor/alpha/cpu/config {}', 'isaac/alpha/status online']);
  // despite `#` and `isaac/+/exec`, alpha got only what the rules let it read
  assert.deepEqual(alphaSeen.sort(), [
    'isaac/alpha/msg hi alpha',
    'isaac/alpha/status online',
    'isaac/roster/alpha entry',
  ]);

  // the client id is forced to the username: connecting as beta with client id "alpha" does not
  // take over alpha's session
  const { code } = await connect('beta', passwords.beta, 'alpha');
  assert.equal(code, 0);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(alpha.connected, 'alpha was not kicked by a client claiming its id');
});
