import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { CONFIG_HELP, DEFAULT_CONFIG, flagName, loadConfig } from '../../broker/config.ts';
import { EXIT, exitStatusOf } from '../../schemas/cli.ts';
import {
  AuthError,
  ConfigError,
  IsaacError,
  NetworkError,
  ProtocolError,
  ProviderError,
  StoreError,
  UsageError,
} from '../../schemas/errors.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The three programs, their subcommands, and arguments that get each one past its other checks. */
const PROGRAMS = {
  isaac: {
    bin: join(ROOT, 'node/cli/isaac.mjs'),
    valid: { tier: ['ls'], import: ['bash'], invite: ['beta'], revoke: ['beta'] } as Record<string, string[]>,
  },
  'isaac-node': {
    bin: join(ROOT, 'node/cli/isaac-node.mjs'),
    valid: {
      init: ['--broker', 'mqtts://127.0.0.1:1', '--fingerprint', 'x', '--setup-token', 'y', '--name', 'a'],
      join: ['isaac1-code'],
      start: [],
      status: [],
    } as Record<string, string[]>,
  },
  'isaac-broker': {
    bin: join(ROOT, 'broker/isaac-broker.mjs'),
    valid: { init: [], start: [], status: [], observer: ['list'] } as Record<string, string[]>,
  },
};
type Program = keyof typeof PROGRAMS;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program in a fresh ISAAC_HOME. With closeStdout, the read end of its stdout is closed
 * before it starts, so its first write meets a reader that went away (EPIPE).
 */
function run(t: Parameters<typeof tempDir>[0], program: Program, args: string[], closeStdout = false) {
  const home = tempDir(t);
  return new Promise<Run>((done, fail) => {
    const child = spawn(process.execPath, [PROGRAMS[program].bin, ...args], {
      env: { ...process.env, ISAAC_HOME: home, HOME: home, ISAAC_BROKER_DATA: '' },
      cwd: home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

/** Runs jobs a few at a time: the machine is shared, and each job is a whole program start-up. */
async function inTurn<T>(jobs: (() => Promise<T>)[], width = 3): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]!();
      }
    }),
  );
  return results;
}

const everyCommand = (Object.keys(PROGRAMS) as Program[]).flatMap((program) => [
  { program, command: undefined as string | undefined },
  ...Object.keys(PROGRAMS[program].valid).map((command) => ({ program, command })),
]);

test('one table: every error class has one exit status, and README prints the table', () => {
  assert.equal(exitStatusOf(new UsageError('x')), 2);
  assert.equal(exitStatusOf(new ConfigError('x')), EXIT.config);
  assert.equal(exitStatusOf(new NetworkError('x')), EXIT.network);
  assert.equal(exitStatusOf(new ProviderError('x')), EXIT.network);
  assert.equal(exitStatusOf(new AuthError('x')), EXIT.refused);
  assert.equal(exitStatusOf(new ProtocolError('x')), EXIT.refused);
  assert.equal(exitStatusOf(new StoreError('x')), EXIT.store);
  assert.equal(exitStatusOf(new IsaacError('x')), EXIT.failed);
  assert.equal(exitStatusOf(new TypeError('x')), EXIT.internal);
  assert.equal(EXIT.ok, 0);
  assert.equal(new Set(Object.values(EXIT)).size, Object.values(EXIT).length, 'one meaning per status');

  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('### Exit statuses')[1]?.split('\n#')[0] ?? '';
  const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  assert.deepEqual(documented, Object.values(EXIT), 'README lists every status, in order');
});

test('--version prints package.json’s version, for all three programs', async (t) => {
  const runs = await inTurn((Object.keys(PROGRAMS) as Program[]).map((p) => () => run(t, p, ['--version'])));
  for (const [i, program] of (Object.keys(PROGRAMS) as Program[]).entries()) {
    assert.deepEqual(runs[i], { status: 0, stdout: `${program} ${VERSION}\n`, stderr: '' }, program);
  }
});

test('--help works on every command of every program, and runs nothing', async (t) => {
  const runs = await inTurn(
    everyCommand.map(
      ({ program, command }) =>
        () =>
          run(t, program, [...(command ? [command] : []), '--help']),
    ),
  );
  for (const [i, { program, command }] of everyCommand.entries()) {
    const what = `${program} ${command ?? ''} --help`;
    const r = runs[i]!;
    assert.equal(r.status, 0, `${what}: ${r.stderr}`);
    assert.equal(r.stderr, '', what);
    assert.ok(r.stdout.startsWith(command ? `${program} ${command}` : program), `${what}: ${r.stdout}`);
    assert.match(r.stdout, /--help +show this help/, what);
  }
});

test('an unknown flag is refused by each program: exit 2, one line naming the flag, nothing run', async (t) => {
  const someCommands = everyCommand.filter(
    ({ program, command }) =>
      command === undefined ||
      `${program} ${command}`.match(/^isaac tier|isaac-node start|isaac-broker start$/),
  );
  const runs = await inTurn(
    someCommands.map(
      ({ program, command }) =>
        () =>
          run(
            t,
            program,
            command ? [command, '--frobnicate', ...PROGRAMS[program].valid[command]!] : ['--frobnicate'],
          ),
    ),
  );
  assert.equal(someCommands.length, 6);
  for (const [i, { program, command }] of someCommands.entries()) {
    const r = runs[i]!;
    const help = command ? `${program} ${command} --help` : `${program} --help`;
    assert.deepEqual(
      r,
      { status: 2, stdout: '', stderr: `${program}: unknown option --frobnicate: see ${help}\n` },
      `${program} ${command ?? ''} --frobnicate`,
    );
  }
  // a typo is named even where a required flag is missing too
  const typo = await run(t, 'isaac-node', ['init', '--brokr', 'mqtts://nas:8883']);
  assert.equal(typo.stderr, 'isaac-node: unknown option --brokr: see isaac-node init --help\n');
  assert.equal(typo.status, 2);
});

test('numeric flags name the flag and the bad value as typed', async (t) => {
  const dir = tempDir(t);
  const numeric = (Object.keys(DEFAULT_CONFIG) as (keyof typeof DEFAULT_CONFIG)[]).filter(
    (key) => typeof DEFAULT_CONFIG[key] === 'number',
  );
  assert.ok(numeric.length >= 10, `ports and limits: ${numeric.join(', ')}`);
  for (const key of numeric) {
    assert.throws(
      () => loadConfig(dir, { [key]: 'abc' }, {}),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message.startsWith(`${flagName(key)} must be`) &&
        err.message.includes('got "abc"') &&
        err.toLine().includes(CONFIG_HELP[key]),
      key,
    );
  }
  const [broker, invite] = await inTurn([
    () => run(t, 'isaac-broker', ['start', '--data', dir, '--max-payload', 'abc']),
    () => run(t, 'isaac', ['invite', 'beta', '--hours', 'abc']),
  ]);
  assert.equal(broker!.status, 2);
  assert.match(broker!.stderr, /^isaac-broker: --max-payload must be a positive number, got "abc": .*\n$/);
  assert.equal(invite!.status, 2);
  assert.match(invite!.stderr, /^isaac: --hours: "abc" is not a number.*\n$/);
});

test('a reader that goes away ends each program quietly with status 0 (SIGPIPE semantics)', async (t) => {
  const broker = await startTestBroker(t);
  const cases: { program: Program; args: string[] }[] = [
    { program: 'isaac', args: ['-c', '/show machines'] },
    { program: 'isaac', args: ['-c', '/show config'] },
    { program: 'isaac', args: ['--help'] },
    { program: 'isaac-node', args: ['status'] },
    { program: 'isaac-broker', args: ['status', '--data', broker.dataDir] },
  ];
  const runs = await inTurn(
    cases.flatMap(({ program, args }) => [() => run(t, program, args), () => run(t, program, args, true)]),
  );
  for (const [i, { program, args }] of cases.entries()) {
    const what = `${program} ${args.join(' ')}`;
    const [open, closed] = [runs[2 * i]!, runs[2 * i + 1]!];
    assert.notEqual(open.stdout, '', `${what} writes to stdout when someone reads it`);
    assert.deepEqual(closed, { status: 0, stdout: '', stderr: '' }, `${what} with its reader gone`);
  }

  // a real pipe closed early: `| head -1` while the command is still writing
  const home = tempDir(t);
  const piped = await new Promise<Run>((done) => {
    const child = spawn(
      'bash',
      ['-c', `node "${PROGRAMS.isaac.bin}" -c 'seq 1 200000' | head -1; echo "status \${PIPESTATUS[0]}"`],
      { env: { ...process.env, ISAAC_HOME: home, HOME: home }, cwd: home },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
  assert.deepEqual(piped, { status: 0, stdout: '1\nstatus 0\n', stderr: '' });
});
