import { isaacHome } from '../core/paths.ts';
import type { Store } from '../core/store/store.ts';
import { openShellStore } from '../core/store/unwritable.ts';
import type { IsaacArgs } from './cli-args.ts';
import { HistoryRecorder } from './history-recorder.ts';
import type { ShellHost } from './host.ts';
import { EARLY_SHELL } from './line-kind.ts';
import type { ShellSession } from './pty-session.ts';
import { randomUuid } from './random.ts';
import { routeLine } from './router.ts';
import { streamIO } from './stream-io.ts';

// node-pty loads with the first shell line: a `/` command never pays for it
const shellModule = () => import('./pty-session.ts');

/**
 * Host for -c and script mode: plain streams, a shell started on first use, stdin /dev/null.
 * `early` is a bash `isaac -c` started before the store opened (spawnEarly): nothing reaches it
 * before `shell()` hands it over (after the tier check), and until then the line is checked as
 * if no shell ran (its own functions are no "known names"). It is bash with the default output
 * limit; a configured `shell.program` other than bash replaces it.
 */
function streamHost(
  store: Store,
  recorder: HistoryRecorder,
  assumeYes: boolean,
  terminal = false,
  early?: ShellSession,
): {
  host: ShellHost;
  close(): Promise<void>;
  exitRequested(): number | undefined;
} {
  let session: Promise<ShellSession> | undefined;
  let started: ShellSession | undefined;
  let exitStatus: number | undefined;
  const configured = async (): Promise<ShellSession> => {
    const program = store.config.string('shell.program');
    const outputLimit = store.config.number('shell.output_limit');
    let shell = early;
    early = undefined;
    if (shell && program !== EARLY_SHELL) {
      await shell.close();
      shell = undefined;
    }
    if (!shell)
      return (await shellModule()).ShellSession.start({ interactive: false, shell: program, outputLimit });
    shell.outputLimit = outputLimit;
    shell.claimPipe();
    await shell.ready();
    return shell;
  };
  const host: ShellHost = {
    store,
    recorder,
    io: streamIO({ assumeYes, terminal }),
    env: process.env,
    assumeYes,
    interactive: false,
    sessionId: randomUuid(),
    shell: () => {
      session ??= configured().then((s) => {
        started = s;
        return s;
      });
      return session;
    },
    sessionNames: () => started?.definedNames() ?? new Set(),
    sessionAliases: () => started?.definedAliases() ?? new Map(),
    requestExit: (status) => {
      exitStatus = status;
    },
    // the AI loads only when a line needs it (a tier-3 review, a failed command)
    reviewRisk: async (line, reason) =>
      (await import('./ai-hooks.ts')).aiReviewRisk({ store, env: process.env }, line, reason),
    suggestFix: async (line, exit, output) =>
      (await import('./ai-hooks.ts')).aiSuggestFix({ store, env: process.env }, line, exit, output),
  };
  return {
    host,
    close: async () => {
      await early?.close();
      await session?.then((s) => s.close()).catch(() => undefined);
    },
    exitRequested: () => exitStatus,
  };
}

async function runScript(store: Store, recorder: HistoryRecorder, assumeYes: boolean): Promise<number> {
  const { host, close, exitRequested } = streamHost(store, recorder, assumeYes);
  let status = 0;
  try {
    const { createInterface } = process.getBuiltinModule('node:readline');
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
      status = await routeLine(line, host);
      const exit = exitRequested();
      if (exit !== undefined) return exit;
    }
  } finally {
    await close();
  }
  return status;
}

/** A person is at this terminal: confirmations can be asked and progress drawn. */
function onTerminal(): boolean {
  // isatty, not process.stdin.isTTY: that builds a stdin stream (fs streams for /dev/null, ~2 ms)
  const { isatty } = process.getBuiltinModule('node:tty');
  return isatty(0) && isatty(2);
}

/**
 * `isaac` once its arguments are read (cli.ts): -c LINE, isaac WORDS, the interactive shell or a
 * script on stdin. `early` is the bash cli.ts started for a shell line.
 */
export async function runIsaac(parsed: IsaacArgs, early: ShellSession | undefined): Promise<number> {
  let opened: ReturnType<typeof openShellStore>;
  try {
    opened = openShellStore(isaacHome());
  } catch (err) {
    await early?.close();
    throw err;
  }
  const { store, isCopy } = opened;
  early?.claimPipe();
  const recorder = new HistoryRecorder(store, isCopy);
  let interactive = false;
  try {
    if (parsed.line !== undefined) {
      const { host, close, exitRequested } = streamHost(
        store,
        recorder,
        parsed.assumeYes,
        onTerminal(),
        early,
      );
      try {
        const status = await routeLine(parsed.line, host);
        return exitRequested() ?? status;
      } finally {
        await close();
      }
    }
    if (parsed.words.length > 0) {
      const { host, close } = streamHost(store, recorder, parsed.assumeYes, onTerminal());
      try {
        const { runIsaacArgs } = await import('./commands/isaac-words.ts');
        return await runIsaacArgs(parsed.words, {
          store,
          io: host.io,
          env: process.env,
          assumeYes: parsed.assumeYes,
          runLine: (line) => routeLine(line, host),
        });
      } finally {
        await close();
      }
    }
    if (process.getBuiltinModule('node:tty').isatty(0) && process.stdout.isTTY) {
      interactive = true;
      const { runRepl } = await import('./repl.ts');
      return await runRepl(store, recorder, process.env, parsed.assumeYes);
    }
    return await runScript(store, recorder, parsed.assumeYes);
  } finally {
    recorder.close();
    // A one-shot run (-c, isaac WORDS, a script) leaves its connection to the exit. Closing the
    // last connection checkpoints the WAL into the database and fsyncs it, and the next commit
    // then starts a new WAL (another sync): 10-20 ms a run on a virtual disk, more than the rest
    // of `isaac -c true`. Left open, the WAL stays for the next run and is checkpointed when it
    // fills (SQLite's autocheckpoint). A commit is not synced either way (WAL with
    // synchronous=NORMAL); closing only synced it at the exit.
    if (interactive) store.close();
  }
}
