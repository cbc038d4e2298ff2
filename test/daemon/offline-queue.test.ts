import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Notification } from '../../node/ipc/client.ts';
import { clientFor, createNetwork, startNodeProc, waitAllOnline, withStore } from '../helpers/node-procs.ts';
import { waitFor } from '../helpers/tmp.ts';

test('target offline: 200 !msg, 20 long-TTL and 5 short-TTL !exec wait at the broker; on return msgs arrive once, long execs run once, short ones refused as expired, every result reaches the sender', async (t) => {
  const net = await createNetwork(t, ['alpha', 'beta']);
  const alphaHome = net.homes.alpha!;
  const betaHome = net.homes.beta!;
  await startNodeProc(t, alphaHome);
  const beta = await startNodeProc(t, betaHome);
  await waitAllOnline([alphaHome, betaHome], ['alpha', 'beta']);
  await beta.kill('SIGTERM');
  await waitFor(
    () => withStore(alphaHome, (s) => s.machines.get('beta')?.status === 'offline'),
    'alpha sees beta offline',
  );

  const alpha = await clientFor(t, alphaHome);
  const notes: Notification[] = [];
  alpha.onNotification((n) => notes.push(n));
  const sends: Promise<{ online: boolean }>[] = [];
  for (let i = 0; i < 200; i++) sends.push(alpha.msg('beta', `note ${i}`));
  assert.ok((await Promise.all(sends)).every((r) => r.online === false));
  const queuedEvents: string[] = [];
  const runs: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    runs.push(
      alpha.exec(
        { targets: 'beta', cmd: `echo long-${i}`, ttlMs: 600_000 },
        (e) => void (e.event === 'queued' && queuedEvents.push(e.target)),
      ).done,
    );
  }
  for (let i = 0; i < 5; i++) {
    runs.push(
      alpha.exec(
        { targets: 'beta', cmd: `echo short-${i}`, ttlMs: 1500 },
        (e) => void (e.event === 'queued' && queuedEvents.push(e.target)),
      ).done,
    );
  }
  await Promise.all(runs);
  assert.equal(queuedEvents.length, 25, 'every exec reported as queued');
  await waitFor(
    () => withStore(alphaHome, (s) => s.outbox.count() === 0),
    'alpha outbox handed to the broker',
  );
  await new Promise((r) => setTimeout(r, 2000)); // the short ones expire at the broker

  await startNodeProc(t, betaHome);
  await waitFor(
    () => notes.filter((n) => n.kind === 'exec-result').length === 25,
    'all 25 results as notifications',
    120_000,
  );
  await waitFor(
    () => withStore(betaHome, (s) => s.messages.count({ direction: 'in', kind: 'msg' }) >= 200),
    'beta got the messages',
  );
  await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive right behind

  withStore(betaHome, (s) => {
    const bodies = s.db
      .prepare("SELECT body FROM messages WHERE direction = 'in' AND kind = 'msg'")
      .all() as { body: string }[];
    assert.equal(bodies.length, 200);
    assert.equal(new Set(bodies.map((b) => b.body)).size, 200);
    const ran = s.db
      .prepare("SELECT command FROM commands WHERE source = 'remote:alpha' ORDER BY command")
      .all() as { command: string }[];
    assert.deepEqual(
      ran.map((r) => r.command).sort(),
      Array.from({ length: 20 }, (_, i) => `echo long-${i}`).sort(),
    );
  });
  const results = notes.filter((n) => n.kind === 'exec-result').map((n) => n.text);
  assert.equal(
    results.filter((r) => /^!exec echo long-\d+: exit 0\nlong-\d+$/.test(r)).length,
    20,
    results.join('\n'),
  );
  assert.equal(
    results.filter((r) => /^!exec echo short-\d+: refused: request expired before it could run$/.test(r))
      .length,
    5,
    results.join('\n'),
  );
  assert.equal(
    withStore(alphaHome, (s) => s.messages.count({ direction: 'in', kind: 'exec-result' })),
    25,
  );
});
