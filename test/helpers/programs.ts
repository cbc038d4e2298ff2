import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './tmp.ts';

/** The three programs as a user runs them, for tests of their command lines. */
const ROOT = resolve(import.meta.dirname, '../..');
export const PROGRAM_BINS = {
  isaac: join(ROOT, 'node/cli/isaac.cjs'),
  'isaac-node': join(ROOT, 'node/cli/isaac-node.mjs'),
  'isaac-broker': join(ROOT, 'broker/isaac-broker.mjs'),
};
export type Program = keyof typeof PROGRAM_BINS;
export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

export interface ProgramRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program in a fresh ISAAC_HOME (also its HOME and cwd). With closeStdout, the read end of
 * its stdout is closed before it starts, so its first write meets a reader that went away (EPIPE).
 */
export function runProgram(
  t: Pick<TestContext, 'after'>,
  program: Program,
  args: string[],
  options: { closeStdout?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<ProgramRun> {
  const home = tempDir(t);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [PROGRAM_BINS[program], ...args], {
      env: { ...process.env, ISAAC_HOME: home, HOME: home, ISAAC_BROKER_DATA: '', ...options.env },
      cwd: home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (options.closeStdout) child.stdout.destroy();
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

/** Runs jobs two at a time: the machine is shared, and each job is a whole program start-up. */
export async function inTurn<T>(jobs: (() => Promise<T>)[], width = 2): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/**
 * The command-line contract every program keeps (schemas/cli.ts): `--version` prints package.json's
 * version; `--help` works on the program and on each of its commands, prints usage and runs
 * nothing; an unknown flag is refused with status 2 and one line naming it.
 * `commands` maps each command to arguments that get it past its other checks.
 */
export async function checkCommandLine(
  t: Pick<TestContext, 'after'>,
  program: Program,
  commands: Record<string, string[]>,
  refuseOn: string,
): Promise<void> {
  const names = [undefined, ...Object.keys(commands)];
  const [version, ...runs] = await inTurn([
    () => runProgram(t, program, ['--version']),
    ...names.map((command) => () => runProgram(t, program, [...(command ? [command] : []), '--help'])),
    () => runProgram(t, program, ['--frobnicate']),
    () => runProgram(t, program, [refuseOn, '--frobnicate', ...commands[refuseOn]!]),
  ]);
  assert.deepEqual(version, { status: 0, stdout: `${program} ${PACKAGE_VERSION}\n`, stderr: '' });
  for (const [i, command] of names.entries()) {
    const what = `${program} ${command ?? ''} --help`;
    const help = runs[i]!;
    assert.equal(help.status, 0, `${what}: ${help.stderr}`);
    assert.equal(help.stderr, '', what);
    assert.ok(help.stdout.startsWith(command ? `${program} ${command}` : program), `${what}: ${help.stdout}`);
    assert.match(help.stdout, /--help +show this help/, what);
  }
  const [top, sub] = runs.slice(names.length);
  assert.deepEqual(top, {
    status: 2,
    stdout: '',
    stderr: `${program}: unknown option --frobnicate: see ${program} --help\n`,
  });
  assert.deepEqual(sub, {
    status: 2,
    stdout: '',
    stderr: `${program}: unknown option --frobnicate: see ${program} ${refuseOn} --help\n`,
  });
}
