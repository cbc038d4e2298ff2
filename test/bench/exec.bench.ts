/**
 * `!exec` figures (issue 4): round trip of `!exec MACHINE true` through the real broker on
 * loopback (two real isaac-node processes) vs `ssh localhost true` without and with a
 * ControlMaster connection (own sshd on an ephemeral port); envelope seal/open throughput;
 * `!exec all uptime` across 20 simulated machines (in-process nodes on one Aedes broker).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { ExecEvent, NodeClient } from '../../node/ipc/client.ts';
import { connectNode } from '../../node/ipc/client.ts';
import { openEnvelope, sealEnvelope } from '../../schemas/envelope.ts';
import { makeKeys, startPlainBroker, startTestNode } from '../helpers/bus-nodes.ts';
import { clientFor, createNetwork, startNodeProc, waitAllOnline } from '../helpers/node-procs.ts';
import { freePort, tempDir, waitFor } from '../helpers/tmp.ts';
import { fmt, median, percentile, timeMs } from './stats.ts';

const cleanups: (() => unknown)[] = [];
const ctx = { after: (fn: () => unknown) => void cleanups.push(fn) };
async function cleanup(): Promise<void> {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {}
  }
}

async function execOnce(client: NodeClient, targets: string, cmd: string): Promise<ExecEvent[]> {
  const events: ExecEvent[] = [];
  await client.exec({ targets, cmd }, (e) => events.push(e)).done;
  return events;
}

function report(label: string, samples: number[]): { median: number; p99: number } {
  const m = median(samples);
  const p99 = percentile(samples, 99);
  process.stdout.write(
    `${label.padEnd(44)} median ${fmt(m)} ms  p99 ${fmt(p99)} ms  (n=${samples.length})\n`,
  );
  return { median: m, p99 };
}

async function benchIsaacExec(runs: number): Promise<{ median: number; p99: number }> {
  const net = await createNetwork(ctx, ['alpha', 'beta']);
  for (const home of Object.values(net.homes)) await startNodeProc(ctx, home);
  await waitAllOnline(Object.values(net.homes), ['alpha', 'beta']);
  const client = await clientFor(ctx, net.homes.alpha!);
  for (let i = 0; i < 10; i++) await execOnce(client, 'beta', 'true'); // warm up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(
      await timeMs(async () => {
        const events = await execOnce(client, 'beta', 'true');
        if (!events.some((e) => e.event === 'result' && e.exit === 0))
          throw new Error(JSON.stringify(events));
      }),
    );
  }
  return report('!exec beta true (TLS broker, 2 isaac-node)', samples);
}

async function startSshd(): Promise<{ port: number; args: string[] } | undefined> {
  const sshd = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));
  if (!sshd) {
    process.stdout.write('sshd not installed (apt-get install -y openssh-server): ssh comparison skipped\n');
    return undefined;
  }
  const dir = tempDir(ctx, 'isaac-sshd-');
  const hostKey = join(dir, 'host_ed25519');
  const userKey = join(dir, 'user_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', userKey]);
  const auth = join(dir, 'authorized_keys');
  writeFileSync(auth, execFileSync('cat', [`${userKey}.pub`]), { mode: 0o600 });
  mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${auth}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      `AllowUsers ${userInfo().username}`,
    ].join('\n'),
  );
  const child = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(() => child.kill('SIGTERM'));
  const base = [
    '-p',
    String(port),
    '-i',
    userKey,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
  ];
  await waitFor(
    () => spawnSync('ssh', [...base, '127.0.0.1', 'true']).status === 0,
    'sshd to accept',
    10_000,
  );
  return { port, args: base };
}

function ssh(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', [...args, '127.0.0.1', 'true'], { stdio: 'ignore' });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ssh exited ${code}`))));
  });
}

async function benchSsh(runsPlain: number, runsControl: number) {
  const sshd = await startSshd();
  if (!sshd) return undefined;
  const plain: number[] = [];
  for (let i = 0; i < runsPlain; i++) plain.push(await timeMs(() => ssh(sshd.args)));
  const cmDir = tempDir(ctx, 'isaac-ssh-cm-');
  const cm = [
    ...sshd.args,
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${cmDir}/cm-%p`,
    '-o',
    'ControlPersist=120',
  ];
  await ssh(cm); // opens the master
  cleanups.push(() => spawnSync('ssh', [...cm, '-O', 'exit', '127.0.0.1'], { stdio: 'ignore' }));
  const control: number[] = [];
  for (let i = 0; i < runsControl; i++) control.push(await timeMs(() => ssh(cm)));
  return {
    plain: report('ssh localhost true (no ControlMaster)', plain),
    control: report('ssh localhost true (ControlMaster)', control),
  };
}

function benchEnvelopes(): void {
  const a = makeKeys('alpha');
  const b = makeKeys('beta');
  for (const size of [1024, 64 * 1024]) {
    const text = 'x'.repeat(size);
    const n = size === 1024 ? 3000 : 300;
    let payload: Uint8Array = new Uint8Array();
    const sealMs = Date.now();
    for (let i = 0; i < n; i++) {
      payload = sealEnvelope(
        { type: 'msg', from: 'alpha', to: 'beta', body: { text }, ttlMs: 60_000 },
        a.sign.secretKey,
        b.box.publicKey,
      ).payload;
    }
    const sealRate = n / ((Date.now() - sealMs) / 1000);
    const openMs = Date.now();
    for (let i = 0; i < n; i++) {
      openEnvelope(payload, {
        myName: 'beta',
        myBoxKeyPair: b.box,
        topicMachine: 'beta',
        lookupSignPk: () => a.sign.publicKey,
      });
    }
    const openRate = n / ((Date.now() - openMs) / 1000);
    process.stdout.write(
      `envelope ${size / 1024} KiB body: seal+sign ${fmt(sealRate, 0)}/s, open+verify ${fmt(openRate, 0)}/s\n`,
    );
  }
}

async function benchFanOut(machines: number): Promise<void> {
  const broker = await startPlainBroker(ctx);
  const keys = Array.from({ length: machines }, (_, i) => makeKeys(`sim${String(i).padStart(2, '0')}`));
  const nodes = [];
  for (const k of keys) nodes.push(await startTestNode(ctx, k, keys, [broker.url]));
  const first = nodes[0]!;
  await waitFor(
    () => keys.every((k) => first.store.machines.get(k.name)?.status === 'online'),
    'all simulated machines online',
    30_000,
  );
  const client = await connectNode(first.home);
  if (!client) throw new Error('no socket');
  cleanups.push(() => client.close());
  await execOnce(client, 'all', 'true');
  const walls: number[] = [];
  for (let i = 0; i < 5; i++) {
    walls.push(
      await timeMs(async () => {
        const events = await execOnce(client, 'all', 'uptime');
        const ok = events.filter((e) => e.event === 'result' && e.exit === 0).length;
        if (ok !== machines) throw new Error(`only ${ok} of ${machines} answered`);
      }),
    );
  }
  process.stdout.write(
    `!exec all uptime across ${machines} simulated machines: wall median ${fmt(median(walls))} ms (runs: ${walls.map((w) => fmt(w, 0)).join(', ')})\n`,
  );
}

/** Local process start-up for reference: `bash -c` is what a remote command pays once the login environment is resolved. */
async function benchShell(flag: '-c' | '-lc', runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(
      await timeMs(
        () =>
          new Promise<void>((resolve) =>
            spawn('bash', [flag, 'true'], { stdio: 'ignore' }).on('close', () => resolve()),
          ),
      ),
    );
  }
  return report(`reference: local \`bash ${flag} true\``, samples).median;
}

try {
  await benchShell('-lc', 20);
  const plain = await benchShell('-c', 50);
  const isaac = await benchIsaacExec(200);
  process.stdout.write(`!exec overhead beyond starting bash -c: ${fmt(isaac.median - plain)} ms (median)\n`);
  const ssh = await benchSsh(100, 200);
  if (ssh) {
    process.stdout.write(
      `ratio: ssh without ControlMaster / !exec = ${fmt(ssh.plain.median / isaac.median)}x (aim >= 10x); !exec / ssh with ControlMaster = ${fmt(isaac.median / ssh.control.median)}x (aim <= 2x)\n`,
    );
  }
  benchEnvelopes();
  await benchFanOut(20);
} finally {
  await cleanup();
}
process.exit(0);
