import type { Store } from '../core/store/store.ts';
import type { CommandContext, CommandIO } from './commands/types.ts';
import type { ShellSession } from './pty-session.ts';

/** What the router needs from the running `isaac` (interactive shell, -c or script mode). */
export interface ShellHost {
  store: Store;
  io: CommandIO;
  env: NodeJS.ProcessEnv;
  assumeYes: boolean;
  /** A person is at a terminal: output goes raw to it and keystrokes reach the running command. */
  interactive: boolean;
  /** A session id recorded with each command (one per isaac process). */
  sessionId: string;
  /** The persistent shell, started on first use. */
  shell(): Promise<ShellSession>;
  /** Aliases and functions of the running shell, if it has started (the tier check knows them). */
  sessionNames?(): ReadonlySet<string>;
  /** Aliases of the running shell, name -> text (the tier check judges what an alias runs). */
  sessionAliases?(): ReadonlyMap<string, string>;
  /** Called around a shell command so an interactive host can hand the keyboard to it. */
  beforeCommand?(session: ShellSession): void;
  afterCommand?(session: ShellSession): void;
  /** Aborted when the user presses Ctrl-C while Isaac itself runs the line (a `!exec`, an AI answer). */
  signal?(): AbortSignal | undefined;
  /** Asks the host to leave after this line. */
  requestExit(status: number): void;
  /** Optional AI review of a tier-3 line (explains the risk); must fail closed. */
  reviewRisk?(line: string, localReason: string): Promise<string | undefined>;
  /** Optional AI fix for a line that failed as "command not found" or with a usage error. */
  suggestFix?(line: string, exit: number, output: string): Promise<string | undefined>;
}

export function commandContext(host: ShellHost, runLine: (line: string) => Promise<number>): CommandContext {
  return { store: host.store, io: host.io, env: host.env, assumeYes: host.assumeYes, runLine };
}
