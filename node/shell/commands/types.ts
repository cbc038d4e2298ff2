import type { Store } from '../../core/store/store.ts';
import type { NodeClient } from '../../ipc/client.ts';

/** How a command talks to the user: the shell's terminal, or stdout/stderr in -c and script mode. */
export interface CommandIO {
  /** Writes text as given (include your own newline). */
  out(text: string): void;
  /** Writes an error or notice line for the user (include your own newline). */
  err(text: string): void;
  readonly isTTY: boolean;
  readonly columns: number;
  /**
   * Asks a yes/no question, default No. Without a TTY it answers `assumeYes` (the --yes flag),
   * so scripts never hang on a prompt and never confirm by accident.
   */
  confirm(question: string): Promise<boolean>;
  /** Asks for a line of input (e.g. editing a proposed command); undefined without a TTY. */
  ask?(question: string, initial?: string): Promise<string | undefined>;
}

export interface CommandContext {
  store: Store;
  io: CommandIO;
  env: NodeJS.ProcessEnv;
  /** --yes was given: confirmations answer yes where no TTY can ask. */
  assumeYes: boolean;
  /** Runs a line through the full router (tiers included), as if typed. Returns its exit status. */
  runLine?(line: string): Promise<number>;
}

/** One option of a command, as /help shows it: `--machine M` and what it does, one line. */
export interface CommandOption {
  readonly flag: string;
  readonly help: string;
}

/** What a handler gets besides its shell-split arguments. */
export interface CommandCall {
  /** The text after the command name exactly as typed (an !exec command, the AI's wording). */
  readonly text: string;
  /** Aborted by Ctrl-C in the shell: cancels a running !exec on its targets. */
  readonly signal?: AbortSignal;
  /** A connection to isaac-node the caller already holds; otherwise the command opens one. */
  readonly client?: NodeClient;
}

/**
 * A command as its module defines it; node/shell/commands/registry.ts collects them.
 * For `/` commands `name` may have two words (`show history`). `usage` is the synopsis as typed,
 * prefix included and options left out (/help lists `options` below it, one line each).
 */
export interface CommandDef {
  name: string;
  aliases?: readonly string[];
  usage: string;
  options?: readonly CommandOption[];
  summary: string;
  /**
   * The line as history stores it, when an argument may hold a secret the redactor cannot know;
   * undefined: not recorded at all (/forget PATTERN must not keep the pattern it deletes).
   */
  historyLine?(args: readonly string[]): string | undefined;
  run(args: string[], ctx: CommandContext, call?: CommandCall): Promise<number> | number;
}

/** A `/` command definition (the name most modules know). */
export type SlashCommand = CommandDef;
