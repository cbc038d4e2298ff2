import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { installKeys } from '../../../node/core/crypto/keys.ts';
import { openStore } from '../../../node/core/store/store.ts';
import { connectNode, type Notification } from '../../../node/ipc/client.ts';
import { runBangCommand } from '../../../node/shell/commands/bang.ts';
import type { CommandContext, CommandIO } from '../../../node/shell/commands/types.ts';
import {
  type MachineKeys,
  makeKeys,
  seedRoster,
  startPlainBroker,
  startTestNode,
} from '../../helpers/bus-nodes.ts';
import { captureIO } from '../../helpers/capture-io.ts';
import { tempDir, waitFor } from '../../helpers/tmp.ts';

function keysInto(home: string, k: MachineKeys): void {
  installKeys(home, {
    sign: k.sign,
    box: k.box,
    loginSecret: new Uint8Array(randomBytes(32)),
    network: undefined,
  });
}

test('!exec, !msg and !status from a shell context: prefixes, summary, exit status, queued offline targets', async (t) => {
  const broker = await startPlainBroker(t);
  const keys = ['alpha', 'web1', 'web2', 'db'].map(makeKeys);
  const [a, w1, w2] = keys as [MachineKeys, MachineKeys, MachineKeys];
  const na = await startTestNode(t, a, keys, [broker.url]);
  keysInto(na.home, a);
  await startTestNode(t, w1, keys, [broker.url]);
  await startTestNode(t, w2, keys, [broker.url]);
  await waitFor(
    () => ['web1', 'web2'].every((n) => na.store.machines.get(n)?.status === 'online'),
    'web1 and web2 online',
  );
  const ctx = (io: CommandIO): CommandContext => ({ store: na.store, io, env: {}, assumeYes: false });

  let io = captureIO();
  assert.equal(await runBangCommand('!exec web1 echo one; exit 4', ctx(io)), 4);
  assert.equal(io.outText, 'one\n');

  io = captureIO();
  const code = await runBangCommand(
    '!exec --timeout 20 web* echo "$((1+1))"; [ $(hostname) ] && exit 0',
    ctx(io),
  );
  assert.equal(code, 0);
  assert.deepEqual(io.outText.split('\n').filter(Boolean).sort(), ['web1 | 2', 'web2 | 2']);
  assert.match(io.errText, /exit codes: web1=0 web2=0/);

  io = captureIO();
  assert.equal(await runBangCommand('!exec web1,web2 exit 3', ctx(io)), 3);
  assert.match(io.errText, /exit codes: web1=3 web2=3/);

  // db never connected: its request waits at the broker, the user is told
  na.store.machines.applyStatus('db', { state: 'offline' });
  io = captureIO();
  assert.equal(await runBangCommand('!exec db uptime', ctx(io)), 75);
  assert.match(io.errText, /queued for db \(offline\), result will appear as a notification/);

  io = captureIO();
  assert.equal(await runBangCommand('!exec nosuch uptime', ctx(io)), 2);
  assert.match(io.errText, /nosuch is not a member of this network/);

  // !NAME CMD is !exec NAME CMD for a machine of the network, and says what is when NAME is not
  io = captureIO();
  assert.equal(await runBangCommand(`!web2 echo "it's short"; exit 5`, ctx(io)), 5);
  assert.equal(io.outText, "it's short\n");
  io = captureIO();
  assert.equal(await runBangCommand('!nosuch uptime', ctx(io)), 2);
  assert.match(io.errText, /^no machine named nosuch; machines: alpha, db, web1, web2: /);
  io = captureIO();
  assert.equal(await runBangCommand('!web2', ctx(io)), 2);
  assert.match(io.errText, /^!web2 needs a command: e\.g\. !web2 uptime/);

  // Ctrl-C cancels on the target
  io = captureIO();
  const abort = new AbortController();
  const started = Date.now();
  setTimeout(() => abort.abort(), 500);
  const cancelled = await runBangCommand('!exec web1 sleep 30', ctx(io), { signal: abort.signal });
  assert.ok(Date.now() - started < 10_000, 'returned soon after Ctrl-C');
  assert.equal(cancelled, 130);
  assert.match(io.errText, /cancelled \(Ctrl-C\): sent a cancel to web1/);

  io = captureIO();
  assert.equal(await runBangCommand('!status web2', ctx(io)), 0);
  assert.match(io.outText, /^web2: online, round trip [\d.]+ ms\n/);

  const notes: Notification[] = [];
  const alphaClient = await connectNode(na.home);
  assert.ok(alphaClient);
  t.after(() => alphaClient.close());
  alphaClient.onNotification((n) => notes.push(n));
  io = captureIO();
  assert.equal(await runBangCommand('!msg web1 the build is green', ctx(io)), 0);
  assert.equal(io.errText, 'sent to web1\n');
  await waitFor(
    () => notes.length === 0 && na.store.messages.count({ direction: 'out', kind: 'msg' }) === 1,
    'message recorded as sent',
  );
});

test('without a running daemon, !msg and !exec are queued in the outbox and sent once isaac-node starts', async (t) => {
  const broker = await startPlainBroker(t);
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  const home = tempDir(t);
  keysInto(home, a);
  const store = openStore(home);
  store.config.set('machine.name', 'alpha');
  seedRoster(store, [a, b]);
  const io = captureIO();
  const ctx: CommandContext = { store, io, env: {}, assumeYes: false };
  assert.equal(await runBangCommand('!msg beta are you there', ctx), 0);
  assert.equal(await runBangCommand('!exec beta echo queued-run', ctx), 75);
  assert.match(io.errText, /isaac-node is not running on this machine: start it with `isaac-node start`/);
  assert.equal(store.pending.count(), 2, 'both wait unsealed for the daemon');
  store.close();

  const nb = await startTestNode(t, b, [a, b], [broker.url]);
  await waitFor(() => nb.daemon.session.state.connected, 'beta connected');
  const na = await startTestNode(t, a, [a, b], [broker.url], { home });
  await waitFor(
    () => nb.store.messages.count({ direction: 'in', kind: 'msg' }) === 1,
    'queued message delivered',
  );
  await waitFor(
    () => na.store.messages.count({ direction: 'in', kind: 'exec-result' }) === 1,
    'queued exec result back',
  );
  const result = na.store.messages.recent(10).find((m) => m.kind === 'exec-result');
  assert.equal(result?.body, '!exec echo queued-run: exit 0\nqueued-run');
  assert.equal(na.store.outbox.count(), 0);
});
