import { randomUUID } from 'node:crypto';
import type { Store } from '../core/store/store.ts';
import { aiReviewRisk, aiSuggestFix, drainQueuedQuestions } from './ai-hooks.ts';
import { configureAi } from './commands/ai.ts';
import type { CommandIO } from './commands/types.ts';
import { completeLine } from './completion.ts';
import type { HistoryRecorder } from './history-recorder.ts';
import type { ShellHost } from './host.ts';
import { LineEditor } from './line-editor.ts';
import { formatPrompt } from './prompt.ts';
import { ShellSession } from './pty-session.ts';
import { RemoteConfirmPrompt } from './remote-confirm.ts';
import { routeLine } from './router.ts';

const NOTIFY_POLL_MS = 1000;
/** Questions queued while offline are retried every this many polls. */
const DRAIN_EVERY_POLLS = 30;

/**
 * The interactive `isaac` shell. The terminal stays in raw mode for the whole session: the line
 * editor owns the keys at the prompt, and while a command runs every key goes to the pty, so
 * Ctrl-C reaches the command (not Isaac) and full-screen programs work.
 */
export async function runRepl(
  store: Store,
  recorder: HistoryRecorder,
  env: NodeJS.ProcessEnv,
  assumeYes: boolean,
): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  stdin.setRawMode(true);
  stdin.resume();
  stdout.write('\x1b[?2004h'); // bracketed paste: a pasted block is one edit, not many Enters

  const editor = new LineEditor({
    input: stdin,
    output: stdout,
    history: () => store.history.recentLines(1000),
    search: (query, skip, here) =>
      store.history.findContaining(query, skip, here ? store.machineName() : undefined),
    complete: (line, cursor) => completeLine(line, cursor, store, session?.cwd ?? process.cwd()),
  });

  let session: ShellSession | undefined;
  let starting: Promise<ShellSession> | undefined;
  const startShell = (): Promise<ShellSession> => {
    if (session?.alive) return Promise.resolve(session);
    starting ??= ShellSession.start({
      interactive: true,
      shell: store.config.string('shell.program'),
      cols: stdout.columns,
      rows: stdout.rows,
      env,
      outputLimit: store.config.number('shell.output_limit'),
    }).then((s) => {
      session = s;
      starting = undefined;
      return s;
    });
    return starting;
  };
  void startShell().catch(() => undefined); // warm up while the user types; errors surface on first use

  const io: CommandIO = {
    out: (text) => void stdout.write(text),
    err: (text) => void stdout.write(text.replace(/\r?\n/g, '\r\n')),
    isTTY: true,
    get columns() {
      return stdout.columns || 80;
    },
    confirm: async (question) => {
      const answer = await editor.read(`${question} [y/N] `);
      return /^y(es)?$/i.test((answer ?? '').trim());
    },
    ask: async (question, initial) => (await editor.read(`${question} `, initial)) ?? undefined,
  };

  let exitStatus: number | undefined;
  let forward: ((data: Buffer) => void) | undefined;
  const onResize = () => session?.resize(stdout.columns, stdout.rows);
  stdout.on('resize', onResize);

  const host: ShellHost = {
    store,
    recorder,
    io,
    env,
    assumeYes,
    interactive: true,
    sessionId: randomUUID(),
    shell: startShell,
    sessionNames: () => session?.definedNames() ?? new Set(),
    sessionAliases: () => session?.definedAliases() ?? new Map(),
    beforeCommand(running) {
      stdin.off('data', onBusyKey);
      forward = (data) => running.write(data.toString('utf8'));
      stdin.on('data', forward);
    },
    afterCommand() {
      if (forward) stdin.off('data', forward);
      forward = undefined;
      stdin.on('data', onBusyKey);
    },
    requestExit(status) {
      exitStatus = status;
    },
    signal: () => busy?.signal,
    reviewRisk: (line, reason) => aiReviewRisk({ store, env }, line, reason),
    suggestFix: (line, exit, output) => aiSuggestFix({ store, env }, line, exit, output),
  };

  // Ctrl-C while Isaac itself is busy (an AI answer streaming, a / command) cancels that work.
  let busy: AbortController | undefined;
  const onBusyKey = (data: Buffer) => {
    if (data.includes(3)) busy?.abort();
  };
  configureAi({
    cwd: () => session?.cwd ?? process.cwd(),
    shell: () => store.config.string('shell.program'),
    signal: () => busy?.signal,
  });

  const showNotifications = () => {
    const unshown = store.messages.unshown();
    if (unshown.length === 0) return;
    for (const m of unshown) editor.printAbove(`\x1b[1;33m[${m.kind} from ${m.peer}]\x1b[0m ${m.body}`);
    store.messages.markShown(unshown.map((m) => m.id));
  };
  let draining = false;
  let polls = 0;
  const poll = setInterval(() => {
    if (!editor.reading) return;
    showNotifications();
    if (++polls % DRAIN_EVERY_POLLS === 1 && !draining) {
      draining = true;
      void drainQueuedQuestions(store, env).finally(() => {
        draining = false;
      });
    }
  }, NOTIFY_POLL_MS);

  // a tier-3 command another machine asks to run here is shown at the prompt for a yes
  let atPrompt = false;
  const confirms = new RemoteConfirmPrompt({
    home: store.home,
    me: () => store.machineName(),
    editor,
    atPrompt: () => atPrompt,
  });
  confirms.start();

  let lastStatus = 0;
  try {
    while (exitStatus === undefined) {
      showNotifications();
      const prompt = formatPrompt(store.machineName(), session?.cwd ?? process.cwd(), lastStatus);
      const reading = editor.read(prompt);
      atPrompt = true;
      confirms.pump();
      const line = await reading;
      atPrompt = false;
      if (line === null) break;
      busy = new AbortController();
      stdin.on('data', onBusyKey);
      try {
        lastStatus = await routeLine(line, host);
      } finally {
        stdin.off('data', onBusyKey);
        busy = undefined;
      }
      if (session && !session.alive && exitStatus === undefined) {
        stdout.write('isaac: the shell exited; a new one starts with the next command\r\n');
        session = undefined;
      }
    }
  } finally {
    confirms.stop();
    clearInterval(poll);
    stdout.off('resize', onResize);
    stdout.write('\x1b[?2004l');
    stdin.setRawMode(false);
    stdin.pause();
    await session?.close();
  }
  return exitStatus ?? 0;
}
