import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { discoveryMessages } from '../../node/daemon/ha/discovery.ts';
import { mosquittoAvailable as available, startMosquitto } from '../helpers/mosquitto.ts';
import { waitFor } from '../helpers/tmp.ts';

async function subackCode(client: MqttClient, topic: string): Promise<number | undefined> {
  try {
    return (await client.subscribeAsync(topic, { qos: 1 }))[0]?.qos;
  } catch (err) {
    return (err as { packet?: { granted?: number[] } }).packet?.granted?.[0];
  }
}

test(available
  ? 'mosquitto with deploy/mosquitto.conf + .acl enforces the same topic rules, without a warning'
  : 'mosquitto test skipped: mosquitto not installed', { skip: !available }, async (t) => {
  const mq = await startMosquitto(t);
  const passwords: Record<string, string> = {};
  for (const name of ['alpha', 'beta', 'watcher'])
    passwords[name] = readFileSync(mq.addMachine(name), 'utf8').trim();
  passwords.homeassistant = 'ha-pw';
  execFileSync('mosquitto_passwd', ['-b', mq.passwdPath, 'homeassistant', 'ha-pw']);
  await mq.reload('watcher', `${mq.dir}/watcher.password`);
  const port = Number(new URL(mq.url).port);

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

  assert.doesNotMatch(mq.log(), /warning/i, 'mosquitto logged no warning');
});

test(available
  ? 'revoking on mosquitto with deploy/mosquitto-remove-machine.sh: session closed, login gone, status and HA entities cleared'
  : 'mosquitto revoke test skipped: mosquitto not installed', { skip: !available }, async (t) => {
  const mq = await startMosquitto(t);
  const password = (name: string) => readFileSync(`${mq.dir}/${name}.password`, 'utf8').trim();
  mq.addMachine('alpha');
  mq.addMachine('gamma');
  mq.addMachine('delta');
  execFileSync('mosquitto_passwd', ['-b', mq.passwdPath, 'homeassistant', 'ha-pw']);
  await mq.reload('gamma', `${mq.dir}/gamma.password`);
  const clients: MqttClient[] = [];
  t.after(() => {
    for (const c of clients) c.end(true);
  });
  const login = (user: string, pw: string, clean: boolean) =>
    new Promise<{ code: number; client: MqttClient }>((r) => {
      const client = mqtt.connect(mq.url, {
        clientId: user,
        username: user,
        password: pw,
        clean,
        reconnectPeriod: 0,
        protocolVersion: 4,
      });
      clients.push(client);
      client.once('connect', () => r({ code: 0, client }));
      client.once('error', (err: Error & { code?: number }) => r({ code: err.code ?? -1, client }));
    });

  // gamma as its node leaves things behind: a persistent session with a queued message, its
  // retained status and Home Assistant configs (exactly the topics the daemon publishes)
  const gamma = (await login('gamma', password('gamma'), false)).client;
  await gamma.subscribeAsync('isaac/gamma/msg', { qos: 1 });
  await gamma.publishAsync('isaac/gamma/status', '{"state":"online"}', { qos: 1, retain: true });
  for (const m of discoveryMessages('gamma', '1.0'))
    await gamma.publishAsync(m.topic, m.payload, { qos: 1, retain: true });
  const closed = new Promise<void>((r) => gamma.once('close', () => r()));
  gamma.on('error', () => {}); // its reconnect (none: reconnectPeriod 0) would be refused
  // delta is offline with a message waiting in its session
  const delta = (await login('delta', password('delta'), false)).client;
  await delta.subscribeAsync('isaac/delta/msg', { qos: 1 });
  await delta.endAsync();
  const alpha = (await login('alpha', password('alpha'), true)).client;
  await alpha.publishAsync('isaac/delta/msg', 'queued for delta', { qos: 1 });

  mq.removeMachine('gamma');
  await closed; // its live connection was taken over and closed
  assert.equal((await login('gamma', password('gamma'), false)).code, 5, 'the old password is refused');
  // an offline session with a queued message, after another machine's removal: the combination
  // that crashed Mosquitto 2.0.11 when the script ended sessions with a clean login
  mq.removeMachine('delta');
  assert.equal((await login('delta', password('delta'), false)).code, 5, "delta's old password is refused");

  const ha = (await login('homeassistant', 'ha-pw', true)).client;
  const seen: string[] = [];
  ha.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  await ha.subscribeAsync(['isaac/+/status', 'homeassistant/#'], { qos: 1 });
  await alpha.publishAsync('isaac/alpha/status', '{"state":"online"}', { qos: 1, retain: true });
  await waitFor(() => seen.length > 0, "alpha's status");
  assert.deepEqual(seen, ['isaac/alpha/status {"state":"online"}'], 'nothing of gamma is retained');
  assert.doesNotMatch(readFileSync(mq.aclPath, 'utf8'), /^user gamma$/m, 'ACL block removed');
  assert.doesNotMatch(readFileSync(mq.passwdPath, 'utf8'), /^gamma:/m, 'account removed');
  assert.match(readFileSync(mq.aclPath, 'utf8'), /^user alpha\ntopic read isaac\/\+\/status$/m, 'alpha kept');
  assert.doesNotMatch(mq.log(), /warning/i, 'mosquitto logged no warning');
  assert.doesNotMatch(mq.log(), /mosquitto exited/, 'mosquitto still runs');
});
