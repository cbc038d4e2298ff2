import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { errorLine, IsaacError } from '../../schemas/errors.ts';
import { isaacHome } from '../core/paths.ts';
import type { Store } from '../core/store/store.ts';
import { openShellStore } from '../core/store/unwritable.ts';
import { aiReviewRisk, aiSuggestFix } from './ai-hooks.ts';
import { runIsaacArgs } from './commands/isaac-words.ts';
import { HistoryRecorder } from './history-recorder.ts';
import type { ShellHost } from './host.ts';
import { ShellSession } from './pty-session.ts';
import { routeLine } from './router.ts';
import { streamIO } from './stream-io.ts';

const USAGE = `usage: isaac [--yes] [-c LINE]         interactive shell, or run one LINE, or a script on stdin
       isaac tier [--json] [--explain] LINE  show a line's safety tier (and the rule that decided)
       isaac import bash|zsh|fish|atuin|auto [FILE]
       isaac invite NAME | isaac revoke NAME [--rotate]
       isaac WORDS...                     ask the AI (natural language)
Lines: /command (Isaac), !command (other machines), isaac WORDS (AI), anything else (your shell).
Environment: ISAAC_HOME (default ~/.isaac).`;

interface Args {
  assumeYes: boolean;
  line?: string;
  words: string[];
}

function parseArgs(argv: string[]): Args | 'help' | 'version' {
  const args: Args = { assumeYes: false, words: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (args.words.length > 0) {
      args.words.push(arg);
    } else if (arg === '-y' || arg === '--yes') {
      args.assumeYes = true;
    } else if (arg === '-c') {
      const line = argv[++i];
      if (line === undefined) throw new IsaacError('-c needs a line', { hint: 'isaac -c "ls -la"' });
      args.line = line;
    } else if (arg === '-h' || arg === '--help') {
      return 'help';
    } else if (arg === '--version') {
      return 'version';
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new IsaacError(`unknown option ${arg}`, { hint: 'see isaac --help' });
    } else {
      args.words.push(arg);
    }
  }
  return args;
}

/** Host for -c and script mode: plain streams, a shell started on first use, stdin /dev/null. */
function streamHost(
  store: Store,
  recorder: HistoryRecorder,
  assumeYes: boolean,
  terminal = false,
): {
  host: ShellHost;
  close(): Promise<void>;
  exitRequested(): number | undefined;
} {
  let session: Promise<ShellSession> | undefined;
  let started: ShellSession | undefined;
  let exitStatus: number | undefined;
  const host: ShellHost = {
    store,
    recorder,
    io: streamIO({ assumeYes, terminal }),
    env: process.env,
    assumeYes,
    interactive: false,
    sessionId: randomUUID(),
    shell: () => {
      session ??= ShellSession.start({
        interactive: false,
        shell: store.config.get('shell.program') ?? 'bash',
        outputLimit: store.config.getNumber('shell.output_limit'),
      }).then((s) => {
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
    reviewRisk: (line, reason) => aiReviewRisk({ store, env: process.env }, line, reason),
    suggestFix: (line, exit, output) => aiSuggestFix({ store, env: process.env }, line, exit, output),
  };
  return {
    host,
    close: async () => {
      await session?.then((s) => s.close()).catch(() => undefined);
    },
    exitRequested: () => exitStatus,
  };
}

async function runScript(store: Store, recorder: HistoryRecorder, assumeYes: boolean): Promise<number> {
  const { host, close, exitRequested } = streamHost(store, recorder, assumeYes);
  let status = 0;
  try {
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
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed === 'version') {
    process.stdout.write('isaac 0.1.0\n');
    return 0;
  }
  const { store, isCopy } = openShellStore(isaacHome());
  const recorder = new HistoryRecorder(store, isCopy);
  try {
    if (parsed.line !== undefined) {
      const { host, close, exitRequested } = streamHost(store, recorder, parsed.assumeYes, onTerminal());
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
    if (process.stdin.isTTY && process.stdout.isTTY) {
      const { runRepl } = await import('./repl.ts');
      return await runRepl(store, recorder, process.env, parsed.assumeYes);
    }
    return await runScript(store, recorder, parsed.assumeYes);
  } finally {
    recorder.close();
    store.close();
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
    // a finished isaac never waits for stray handles (a shell still winding down)
    setImmediate(() => process.exit(status));
  },
  (err: unknown) => {
    process.stderr.write(`isaac: ${errorLine(err)}\n`);
    process.exit(err instanceof IsaacError ? 2 : 1);
  },
);
