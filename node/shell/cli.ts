import { runProgram } from '../../schemas/cli.ts';
import { isaacHome } from '../core/paths.ts';
import type { Store } from '../core/store/store.ts';
import { openShellStore } from '../core/store/unwritable.ts';
import type { IsaacArgs } from './cli-args.ts';
import { HistoryRecorder } from './history-recorder.ts';
import type { ShellHost } from './host.ts';
import type { ShellSession } from './pty-session.ts';
import { randomUuid } from './random.ts';
import { isShellLine, routeLine } from './router.ts';
import { streamIO } from './stream-io.ts';

/**
 * The fast path: a plain start, `-c LINE` and `--yes` are read here, so `isaac -c` never loads
 * yargs (it costs more start-up time than the rest of `isaac -c true`). Anything else goes to the
 * full command line in cli-args.ts.
 */
function quickArgs(argv: string[]): IsaacArgs | undefined {
  const args: IsaacArgs = { assumeYes: false, words: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-y' || arg === '--yes') args.assumeYes = true;
    else if (arg === '-c' && args.line === undefined && argv[i + 1] !== undefined) args.line = argv[++i];
    else return undefined;
  }
  return args;
}

/**
 * Host for -c and script mode: plain streams, a shell started on first use, stdin /dev/null.
 * `prestart()` starts bash early, while the line is still being checked: nothing reaches it
 * before `shell()` hands it over (after the tier check), and until then the line is checked as
 * if no shell ran (its own functions are no "known names").
 */
function streamHost(
  store: Store,
  recorder: HistoryRecorder,
  assumeYes: boolean,
  terminal = false,
): {
  host: ShellHost;
  prestart(): Promise<void>;
  close(): Promise<void>;
  exitRequested(): number | undefined;
} {
  let early: Promise<ShellSession> | undefined;
  let session: Promise<ShellSession> | undefined;
  let started: ShellSession | undefined;
  let exitStatus: number | undefined;
  // node-pty loads with the first shell line: a `/` command never pays for it
  const shellModule = () => import('./pty-session.ts');
  const startShell = (module: Awaited<ReturnType<typeof shellModule>>) =>
    module.ShellSession.start({
      interactive: false,
      shell: store.config.string('shell.program'),
      outputLimit: store.config.number('shell.output_limit'),
    });
  const host: ShellHost = {
    store,
    recorder,
    io: streamIO({ assumeYes, terminal }),
    env: process.env,
    assumeYes,
    interactive: false,
    sessionId: randomUuid(),
    shell: () => {
      session ??= (early ?? shellModule().then(startShell)).then((s) => {
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
    // resolves once bash is spawned (not ready): the caller classifies the line meanwhile
    prestart: async () => {
      const module = await shellModule();
      early ??= startShell(module);
      early.catch(() => undefined); // a failed start is reported by shell(), if the line gets there
    },
    close: async () => {
      await (session ?? early)?.then((s) => s.close()).catch(() => undefined);
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

async function main(argv: string[]): Promise<number> {
  const parsed = quickArgs(argv) ?? (await (await import('./cli-args.ts')).parseIsaacArgs(argv));
  if (typeof parsed === 'number') return parsed;
  const { store, isCopy } = openShellStore(isaacHome());
  const recorder = new HistoryRecorder(store, isCopy);
  try {
    if (parsed.line !== undefined) {
      const { host, prestart, close, exitRequested } = streamHost(
        store,
        recorder,
        parsed.assumeYes,
        onTerminal(),
      );
      if (isShellLine(parsed.line)) await prestart();
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
      const { runRepl } = await import('./repl.ts');
      return await runRepl(store, recorder, process.env, parsed.assumeYes);
    }
    return await runScript(store, recorder, parsed.assumeYes);
  } finally {
    recorder.close();
    store.close();
  }
}

runProgram('isaac', () => main(process.argv.slice(2)));
