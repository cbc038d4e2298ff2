import type { Store } from '../../node/core/store/store.ts';
import type { CommandContext, CommandIO } from '../../node/shell/commands/types.ts';

/** A CommandIO that records what a user would see and answers prompts from a list. */
export class RecordingIO implements CommandIO {
  stdout = '';
  stderr = '';
  questions: { question: string; initial: string | undefined }[] = [];
  readonly columns = 100;

  constructor(
    readonly isTTY: boolean,
    private readonly answers: (string | undefined)[] = [],
  ) {}

  out(text: string): void {
    this.stdout += text;
  }

  err(text: string): void {
    this.stderr += text;
  }

  async confirm(question: string): Promise<boolean> {
    this.questions.push({ question, initial: undefined });
    return this.answers.shift() === 'y';
  }

  async ask(question: string, initial?: string): Promise<string | undefined> {
    this.questions.push({ question, initial });
    return this.answers.shift();
  }
}

export function aiContext(
  store: Store,
  io: RecordingIO,
  options: { env?: NodeJS.ProcessEnv; assumeYes?: boolean; runLine?: (line: string) => Promise<number> } = {},
): CommandContext & { ran: string[] } {
  const ran: string[] = [];
  return {
    store,
    io,
    env: options.env ?? {},
    assumeYes: options.assumeYes ?? false,
    ran,
    runLine: async (line) => {
      ran.push(line);
      return options.runLine ? await options.runLine(line) : 0;
    },
  };
}
