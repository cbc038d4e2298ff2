import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import pty from 'node-pty';
import { tempDir, waitFor } from './tmp.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ISAAC_BIN = join(ROOT, 'node', 'cli', 'isaac.cjs');

export interface IsaacEnv {
  /** ISAAC_HOME */
  home: string;
  /** HOME for the shell (kept apart from the developer's real ~/.bashrc). */
  userHome: string;
  env: NodeJS.ProcessEnv;
}

/** A fresh ISAAC_HOME and HOME for one test, removed afterwards. */
export function isaacEnv(t: Pick<TestContext, 'after'>, extra: NodeJS.ProcessEnv = {}): IsaacEnv {
  const root = tempDir(t);
  const home = join(root, 'isaac-home');
  const userHome = join(root, 'home');
  mkdirSync(userHome, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ISAAC_HOME: home,
    HOME: userHome,
    TERM: 'xterm-256color',
    ANTHROPIC_API_KEY: '',
    OPENAI_API_KEY: '',
    XAI_API_KEY: '',
    ...extra,
  };
  return { home, userHome, env };
}

export interface IsaacResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `isaac` program with args and optional stdin; resolves when it exits. */
export function runIsaac(
  ienv: IsaacEnv,
  args: string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<IsaacResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ISAAC_BIN, ...args], { env: ienv.env, cwd: ienv.userHome });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`isaac ${args.join(' ')} timed out; stdout=${stdout} stderr=${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** The interactive `isaac` in a real pty, as a person at a terminal would see it. */
export class IsaacTerminal {
  output = '';
  exited: number | undefined;
  private readonly term: pty.IPty;

  constructor(t: Pick<TestContext, 'after'>, ienv: IsaacEnv, args: string[] = []) {
    this.term = pty.spawn(process.execPath, [ISAAC_BIN, ...args], {
      name: 'xterm-256color',
      cols: 120,
      rows: 40,
      cwd: ienv.userHome,
      env: ienv.env as Record<string, string>,
    });
    this.term.onData((d) => {
      this.output += d;
    });
    this.term.onExit(({ exitCode }) => {
      this.exited = exitCode;
    });
    t.after(() => {
      if (this.exited === undefined) this.term.kill('SIGKILL');
    });
  }

  /** Output with escape sequences removed, for assertions. */
  get plain(): string {
    return this.output.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>]/g, '');
  }

  write(data: string): void {
    this.term.write(data);
  }

  /** Marks the current end of output; `waitForText` then only looks at what comes after. */
  mark(): number {
    return this.plain.length;
  }

  async waitForText(text: string | RegExp, from = 0, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      () => {
        const tail = this.plain.slice(from);
        return typeof text === 'string' ? tail.includes(text) : text.test(tail);
      },
      () => `${String(text)} in terminal output:\n${this.plain.slice(from).slice(-2000)}`,
      timeoutMs,
    );
  }

  async waitForExit(timeoutMs = 30_000): Promise<number> {
    await waitFor(
      () => this.exited !== undefined,
      () => `isaac to exit; terminal output:\n${this.plain.slice(-2000)}`,
      timeoutMs,
    );
    return this.exited!;
  }
}
