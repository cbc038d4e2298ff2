import {
  closeSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pty from 'node-pty';
import { IsaacError } from '../../schemas/errors.ts';
import { bashRc } from './bash-rc.ts';
import { BoundedText } from './bounded-text.ts';
import { MarkerParser } from './marker-parser.ts';
import { randomBytesQuick } from './random.ts';
import { parseSessionNames, type SessionNames } from './session-names.ts';

/** Milliseconds on a monotonic clock (the global `performance` costs isaac ~1 ms to load). */
function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** What Isaac's private directory for one shell holds: command FIFO, rc file, names file. */
const FIFO = 'cmd';
const RC = 'rc.bash';
const NAMES = 'names';

export interface RunResult {
  exit: number;
  cwd: string;
  /** The last `outputLimit` characters of output, ANSI escapes removed. */
  output: string;
  durationMs: number;
}

export interface ShellSessionOptions {
  /** Interactive: source ~/.bashrc, keep the terminal's own line discipline (echo, CR-LF). */
  interactive: boolean;
  shell?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  cols?: number;
  rows?: number;
  outputLimit?: number;
}

export interface RunOptions {
  /** Called with output as it arrives (raw bytes as the terminal should show them). */
  onOutput?: (data: string) => void;
  /** Give the command /dev/null as stdin (script and -c mode, where nobody can type). */
  stdinNull?: boolean;
}

interface Pending {
  resolve: (result: RunResult) => void;
  reject: (err: Error) => void;
  started: number;
  output: BoundedText;
  onOutput: ((data: string) => void) | undefined;
}

/**
 * One persistent bash inside a pty. Commands go in through a private FIFO (see bash-rc.ts) and
 * their end is signalled by a marker carrying the exit status and cwd, so cd, export, aliases and
 * functions persist while full-screen programs own the terminal as usual.
 */
export class ShellSession {
  private readonly parser: MarkerParser;
  private pending: Pending | undefined;
  private readyWaiters: Array<() => void> = [];
  private isReady = false;
  private exited = false;
  private fifoClosed = false;
  private names: SessionNames = { names: new Set(), aliases: new Map() };
  private namesMtime = 0;
  private exitWaiters: Array<() => void> = [];
  private currentCwd: string;

  /** Isaac's end of the command FIFO, open once bash has made it (its `pipe` marker). */
  private fifoFd: number | undefined;
  private startFailure: IsaacError | undefined;

  private constructor(
    private readonly term: pty.IPty,
    private readonly fifo: string,
    private readonly dir: string,
    nonce: string,
    /** How much of each command's output RunResult keeps (the last characters). */
    public outputLimit: number,
    cwd: string,
  ) {
    this.currentCwd = cwd;
    this.parser = new MarkerParser(nonce, {
      text: (text) => this.onText(text),
      marker: (fields) => this.onMarker(fields),
    });
    term.onData((data) => this.parser.push(data));
    term.onExit(({ exitCode }) => this.onExit(exitCode));
  }

  /** Starts bash and resolves once it takes commands. */
  static async start(options: ShellSessionOptions): Promise<ShellSession> {
    const session = ShellSession.spawn(options);
    await session.ready();
    return session;
  }

  /**
   * Starts bash and returns at once: `ready()` resolves when it takes commands, and meanwhile
   * the caller can do other work (`isaac -c` checks the line). `claimPipe()` then spares bash
   * waiting for Isaac to notice its FIFO.
   */
  static spawn(options: ShellSessionOptions): ShellSession {
    const dir = mkdtempSync(join(tmpdir(), 'isaac-sh-'));
    const fifo = join(dir, FIFO);
    const nonce = randomBytesQuick(8).toString('hex');
    const rcFile = join(dir, RC);
    const rc = bashRc({ sourceUserRc: options.interactive, nonce, quietTerminal: !options.interactive });
    writeFileSync(rcFile, rc, { mode: 0o600 });
    const cwd = options.cwd ?? process.cwd();
    const env = {
      ...(options.env ?? process.env),
      ISAAC_CMD_FIFO: fifo,
      ISAAC_NAMES_FILE: join(dir, NAMES),
      ISAAC_SHELL: '1',
    } as Record<string, string>;
    const term = pty.spawn(options.shell ?? 'bash', ['--noprofile', '--rcfile', rcFile, '-i'], {
      name: env.TERM ?? 'xterm-256color',
      cols: options.cols ?? 80,
      rows: options.rows ?? 24,
      cwd,
      env,
    });
    return new ShellSession(term, fifo, dir, nonce, options.outputLimit ?? 64 * 1024, cwd);
  }

  /**
   * Opens Isaac's end of the command FIFO if bash has made it: bash waits in its own open of the
   * FIFO until then, and its `pipe` marker is only read when Isaac's event loop gets to it.
   */
  claimPipe(): void {
    if (this.fifoFd !== undefined || this.fifoClosed) return;
    let fd: number;
    try {
      // O_RDWR on a FIFO never blocks on Linux, and keeps the pipe open across bash's reads.
      fd = openSync(this.fifo, 'r+');
    } catch {
      return; // not made yet: the `pipe` marker will say when
    }
    if (fstatSync(fd).isFIFO()) this.fifoFd = fd;
    else closeSync(fd);
  }

  /** Aliases and functions defined in this shell (as of the last command's end). */
  definedNames(): Set<string> {
    return this.readNames().names;
  }

  /** Aliases defined in this shell, name -> what it runs (as of the last command's end). */
  definedAliases(): ReadonlyMap<string, string> {
    return this.readNames().aliases;
  }

  private readNames(): SessionNames {
    const file = join(this.dir, NAMES);
    try {
      const mtime = statSync(file).mtimeMs;
      if (mtime !== this.namesMtime) {
        this.names = parseSessionNames(readFileSync(file, 'utf8'));
        this.namesMtime = mtime;
      }
    } catch {
      // not written yet: no names beyond PATH and builtins
    }
    return this.names;
  }

  get cwd(): string {
    return this.currentCwd;
  }

  get alive(): boolean {
    return !this.exited;
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Runs one command line; resolves when bash reports it finished. */
  run(command: string, options: RunOptions = {}): Promise<RunResult> {
    if (this.exited) return Promise.reject(new IsaacError('the shell has exited'));
    if (this.pending) return Promise.reject(new IsaacError('a command is already running'));
    return new Promise<RunResult>((resolve, reject) => {
      this.pending = {
        resolve,
        reject,
        started: nowMs(),
        output: new BoundedText(this.outputLimit),
        onOutput: options.onOutput,
      };
      const prefix = options.stdinNull ? '\x01' : '';
      writeSync(this.fifoFd!, `${prefix}${command.replaceAll('\0', '')}\0`);
    });
  }

  /** Keystrokes for the running command (the terminal turns \x03 into SIGINT for its job). */
  write(data: string): void {
    if (!this.exited) this.term.write(data);
  }

  interrupt(): void {
    this.write('\x03');
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.term.resize(Math.max(cols, 2), Math.max(rows, 1));
  }

  /**
   * Ends bash by closing its command pipe (its loop reads EOF and exits), and resolves once the
   * pty has gone. Waiting matters: node-pty reuses file descriptors, and a pty started before the
   * old one is fully torn down can lose its output.
   */
  close(): Promise<void> {
    if (this.exited) {
      this.cleanup();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const killer = setTimeout(() => this.term.kill('SIGKILL'), 2000);
      this.exitWaiters.push(() => {
        clearTimeout(killer);
        resolve();
      });
      // bash still waiting for its FIFO (or in a command) cannot read the end of it
      const waiting = this.fifoFd === undefined || this.pending !== undefined;
      this.closeFifo();
      if (waiting) this.term.kill('SIGHUP');
    });
  }

  private closeFifo(): void {
    if (this.fifoClosed) return;
    this.fifoClosed = true;
    try {
      if (this.fifoFd !== undefined) closeSync(this.fifoFd);
    } catch {
      // already closed
    }
  }

  private cleanup(): void {
    this.closeFifo();
    // the directory holds only these (the rest of a recursive remove costs a few ms per shell)
    try {
      for (const name of [FIFO, RC, NAMES]) {
        try {
          unlinkSync(join(this.dir, name));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      rmdirSync(this.dir);
    } catch {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Resolves when bash takes commands; rejects when it cannot start. */
  ready(timeoutMs = 10_000): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const failed = () => {
        if (!this.startFailure) return false;
        void this.close();
        reject(this.startFailure);
        return true;
      };
      const timer = setTimeout(() => {
        void this.close();
        reject(new IsaacError('the shell did not start', { hint: 'check that bash runs: bash --version' }));
      }, timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        if (!failed()) resolve();
      });
    });
  }

  private onText(text: string): void {
    const pending = this.pending;
    if (!pending) return; // start-up noise from ~/.bashrc
    pending.output.append(text);
    pending.onOutput?.(text);
  }

  private onMarker(fields: string[]): void {
    if (fields[0] === 'pipe') {
      this.claimPipe();
      return;
    }
    if (fields[0] === 'nopipe') {
      this.startFailure = new IsaacError('cannot create the command pipe for the shell', {
        hint: 'check that mkfifo works in $TMPDIR',
      });
      for (const waiter of this.readyWaiters.splice(0)) waiter();
      return;
    }
    if (fields[0] === 'ready') {
      this.isReady = true;
      for (const waiter of this.readyWaiters.splice(0)) waiter();
      return;
    }
    if (fields[0] !== 'done') return;
    const exit = Number(fields[1]);
    this.currentCwd = fields.slice(2).join(';') || this.currentCwd;
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve({
      exit: Number.isInteger(exit) ? exit : 1,
      cwd: this.currentCwd,
      output: pending.output.text(),
      durationMs: Math.round(nowMs() - pending.started),
    });
  }

  private onExit(exitCode: number): void {
    this.exited = true;
    const pending = this.pending;
    this.pending = undefined;
    this.cleanup();
    pending?.resolve({
      exit: exitCode,
      cwd: this.currentCwd,
      output: pending.output.text(),
      durationMs: Math.round(nowMs() - pending.started),
    });
    for (const waiter of this.readyWaiters.splice(0)) waiter();
    for (const waiter of this.exitWaiters.splice(0)) waiter();
  }
}
