/**
 * Honest status (issue 11) with a real broker and real isaac-node processes: a revoked machine
 * says so, with when, by whom and what to do, in `isaac-node status`, `/show status` and on every
 * `!` command, and sends nothing; one revoked while its node was off learns it from the broker's
 * CONNACK ("not authorized" means revoked at isaac-broker); a machine that cannot reach the
 * broker says "broker unreachable: queued" for `!exec` and `!msg`, not that the target is offline.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loginProblem, refusalState } from '../../node/core/identity/login-status.ts';
import { openStore } from '../../node/core/store/store.ts';
import { revokeMachine } from '../../node/shell/identity/membership.ts';
import { type IsaacEnv, runIsaac } from '../helpers/isaac.ts';
import { createNetwork, runNodeCli, startNodeProc, waitAllOnline, withStore } from '../helpers/node-procs.ts';
import { tempDir, waitFor } from '../helpers/tmp.ts';

function shellIn(t: Parameters<typeof tempDir>[0], home: string): IsaacEnv {
  const userHome = join(tempDir(t), 'home');
  mkdirSync(userHome);
  return { home, userHome, env: { ...process.env, ISAAC_HOME: home, HOME: userHome, TERM: 'dumb' } };
}

const DATE = /\d{4}-\d\d-\d\d \d\d:\d\d UTC/.source;

test('a revoked machine says so, with when, by whom and what to do, everywhere; it sends nothing', async (t) => {
  const names = ['alpha', 'beta', 'gamma'];
  const net = await createNetwork(t, names);
  const [alphaHome, betaHome, gammaHome] = names.map((n) => net.homes[n]!) as [string, string, string];
  await startNodeProc(t, alphaHome);
  const beta = await startNodeProc(t, betaHome);
  await startNodeProc(t, gammaHome);
  await waitAllOnline([alphaHome, betaHome, gammaHome], names);

  // gamma is online when it is revoked: the broker hands it the signed revocation before closing it
  await revokeMachine(alphaHome, 'gamma');
  const told = new RegExp(
    `this machine \\(gamma\\) was revoked on ${DATE} by alpha: ask an admin for a new invite \\(\`isaac invite gamma\` there\\), then run \`isaac-node join CODE\` here`,
  );
  const status = await waitFor(async () => {
    const r = await runNodeCli(gammaHome, ['status']);
    return told.test(r.stdout) ? r.stdout : undefined;
  }, "gamma's isaac-node status to say it was revoked");
  assert.match(status ?? '', /^login: +this machine \(gamma\) was revoked/m);
  assert.match(status ?? '', /connection: +not connected/);

  const gamma = shellIn(t, gammaHome);
  const shown = await runIsaac(gamma, ['-c', '/show status']);
  assert.match(shown.stdout, new RegExp(`login +${told.source}`));
  assert.match(shown.stdout, /not connected: the broker refuses this machine/);
  for (const line of ['!exec alpha uptime', '!msg alpha hello', '!alpha uptime']) {
    const r = await runIsaac(gamma, ['-c', line]);
    assert.equal(r.status, 126, `${line}: refused (README, Exit statuses)`);
    assert.match(r.stderr, new RegExp(`${told.source}; nothing was sent`), line);
  }
  // a ! command that only reads still runs, after the same line
  const st = await runIsaac(gamma, ['-c', '!status alpha']);
  assert.match(st.stderr, told);
  const queued = withStore(gammaHome, (s) =>
    s.db.prepare("SELECT count(*) AS n FROM outbox WHERE kind IN ('exec', 'msg')").get(),
  ) as { n: number };
  assert.equal(
    queued.n + withStore(gammaHome, (s) => s.pending.count()),
    0,
    'nothing queued that could never be delivered',
  );

  // beta's node is off when it is revoked: starting again, it is refused with CONNACK 5 and says so
  await beta.kill();
  await revokeMachine(alphaHome, 'beta');
  await startNodeProc(t, betaHome, { waitConnected: false });
  const refused = new RegExp(
    `the broker refuses beta as revoked \\(CONNACK 5, not authorized\\) since ${DATE}: ask an admin for a new invite`,
  );
  await waitFor(
    async () => refused.test((await runNodeCli(betaHome, ['status'])).stdout),
    "beta's status",
    60_000,
  );
  const betaShell = shellIn(t, betaHome);
  const exec = await runIsaac(betaShell, ['-c', '!exec alpha uptime']);
  assert.equal(exec.status, 126);
  assert.match(exec.stderr, refused);
  assert.match((await runIsaac(betaShell, ['-c', '/show status'])).stdout, refused);
});

test('broker unreachable: !exec and !msg say "broker unreachable: queued", not that the target is offline', async (t) => {
  const names = ['alpha', 'beta'];
  const net = await createNetwork(t, names);
  const [alphaHome, betaHome] = names.map((n) => net.homes[n]!) as [string, string];
  await startNodeProc(t, alphaHome);
  await startNodeProc(t, betaHome);
  await waitAllOnline([alphaHome, betaHome], names);
  await net.broker.kill();
  await waitFor(
    async () => /connection: +not connected/.test((await runNodeCli(alphaHome, ['status'])).stdout),
    'alpha to notice the broker is gone',
    30_000,
  );
  const alpha = shellIn(t, alphaHome);
  const exec = await runIsaac(alpha, ['-c', '!exec beta uptime']);
  assert.equal(exec.status, 75, 'queued (README, Exit statuses)');
  assert.match(
    exec.stderr,
    /^broker unreachable: queued for beta \(.+\); isaac-node sends it when it reaches the broker/m,
  );
  assert.doesNotMatch(exec.stderr, /offline/);
  const msg = await runIsaac(alpha, ['-c', '!msg beta are you there']);
  assert.equal(msg.status, 0);
  assert.match(msg.stderr, /^broker unreachable: queued for beta/m);
  assert.doesNotMatch(msg.stderr, /offline/);
  const shown = await runIsaac(alpha, ['-c', '/show status']);
  assert.match(shown.stdout, /connection +not connected: broker unreachable/);
  assert.doesNotMatch(shown.stdout, /^login/m, 'nothing refused: it just cannot reach the broker');
});

test('what each CONNACK refusal means and says (isaac-broker tokens, static passwords)', (t) => {
  assert.equal(refusalState(5, false), 'revoked');
  assert.equal(refusalState(5, true), 'refused', 'Mosquitto says 5 for any bad password');
  assert.equal(refusalState(4, false), 'refused');
  assert.equal(refusalState(3, false), 'unavailable');
  const home = tempDir(t);
  const store = openStore(home);
  try {
    store.config.set('machine.name', 'delta');
    assert.equal(loginProblem(store), undefined);
    store.brokerLogin.refused('refused', 4, 'mqtts://nas:8883', Date.UTC(2026, 11, 1, 9, 30));
    store.brokerLogin.refused('refused', 4, 'mqtts://nas:8883', Date.UTC(2026, 11, 1, 9, 45));
    assert.equal(
      loginProblem(store)?.line,
      "the broker refuses delta's login (CONNACK 4, bad user name or password) since 2026-12-01 09:30 UTC: check this machine's clock; if the broker was set up again or no longer knows delta, ask an admin for a new invite (`isaac invite delta` there), then run `isaac-node join CODE` here",
    );
    store.brokerLogin.refused('unavailable', 3, 'mqtts://nas:8883', Date.UTC(2026, 11, 1, 10, 0));
    assert.match(
      loginProblem(store)?.line ?? '',
      /not taking delta's logins now \(CONNACK 3, server unavailable\) since 2026-12-01 10:00 UTC: it throttles/,
    );
    store.brokerLogin.accepted();
    assert.equal(loginProblem(store), undefined);
  } finally {
    store.close();
  }
});
