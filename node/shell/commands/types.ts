import type { Store } from '../../core/store/store.ts';

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

/** A `/` command. `name` may have two words (`show history`); args are shell-split. */
export interface SlashCommand {
  name: string;
  usage: string;
  summary: string;
  run(args: string[], ctx: CommandContext): Promise<number> | number;
}
