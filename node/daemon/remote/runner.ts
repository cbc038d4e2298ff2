import { type ChildProcess, spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { StringDecoder } from 'node:string_decoder';

/**
 * Runs one remote command in a fresh shell of this node's user, in its home directory, with a
 * time limit: `bash -c` with the login environment read at node start (see login-env.ts), or
 * the node's own environment when that read failed; never a login shell, which would run the
 * profile as it is now. Output is handed out in chunks (bounded size,
 * flushed on a short timer) so the caller can seal each into an envelope under the payload cap.
 */
export interface RunOptions {
  cmd: string;
  timeoutMs: number;
  onChunk(stream: 'stdout' | 'stderr', data: string): void;
  chunkBytes?: number;
  flushMs?: number;
  shell?: string;
  /** the user's login environment, already resolved; without it the node's own environment */
  loginEnv?: Record<string, string> | undefined;
}

export interface RunOutcome {
  exit: number;
  durationMs: number;
  error?: string;
  /** bounded copy of the output for the history record */
  output: string;
}

export interface RunningCommand {
  /** the shell's pid, also the id of the process group the command runs in */
  pid: number | undefined;
  done: Promise<RunOutcome>;
  /** SIGINT to the whole process group, SIGKILL to what is left of it 2 s later */
  cancel(): void;
}

const HISTORY_OUTPUT_LIMIT = 64 * 1024;

export function runRemoteCommand(options: RunOptions): RunningCommand {
  const started = Date.now();
  const chunkBytes = options.chunkBytes ?? 32 * 1024;
  const flushMs = options.flushMs ?? 30;
  const home = homedir();
  const login = options.loginEnv;
  const child: ChildProcess = spawn(options.shell ?? 'bash', ['-c', options.cmd], {
    cwd: home,
    env: { ...(login ?? process.env), HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let kept = '';
  let error: string | undefined;
  const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  let timer: NodeJS.Timeout | undefined;
  const flush = (stream: 'stdout' | 'stderr') => {
    const data = pending[stream];
    if (data.length === 0) return;
    pending[stream] = '';
    options.onChunk(stream, data);
  };
  const flushAll = () => {
    timer = undefined;
    flush('stdout');
    flush('stderr');
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    const decoder = new StringDecoder('utf8');
    child[stream]?.on('data', (buf: Buffer) => {
      const text = decoder.write(buf);
      if (kept.length < HISTORY_OUTPUT_LIMIT) kept += text.slice(0, HISTORY_OUTPUT_LIMIT - kept.length);
      pending[stream] += text;
      while (Buffer.byteLength(pending[stream]) >= chunkBytes) {
        const head = pending[stream].slice(0, chunkBytes / 4);
        pending[stream] = pending[stream].slice(head.length);
        options.onChunk(stream, head);
      }
      timer ??= setTimeout(flushAll, flushMs);
    });
  }
  // The group outlives its leader when the command left children behind: signal it either way.
  const killGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      if (child.exitCode === null) child.kill(signal);
    }
  };
  const limit = setTimeout(() => {
    error = `timed out after ${Math.round(options.timeoutMs / 1000)} s`;
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), 2000).unref();
  }, options.timeoutMs);
  const done = new Promise<RunOutcome>((resolve) => {
    child.on('error', (err) => {
      error = err.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      if (timer) clearTimeout(timer);
      flushAll();
      const exit = code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1);
      resolve({
        exit,
        durationMs: Date.now() - started,
        output: kept,
        ...(error === undefined ? {} : { error }),
      });
    });
  });
  return {
    pid: child.pid,
    done,
    cancel() {
      error ??= 'cancelled by the sender';
      killGroup('SIGINT');
      setTimeout(() => killGroup('SIGKILL'), 2000).unref();
    },
  };
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return table[signal];
}
