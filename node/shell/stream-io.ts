import type { CommandIO } from './commands/types.ts';

/**
 * CommandIO for `isaac -c` and script mode: plain stdout/stderr. A confirmation is asked on the
 * terminal when there is one; otherwise nobody can answer, so it follows --yes (and says so)
 * instead of hanging or guessing.
 */
export function streamIO(options: { assumeYes: boolean; terminal?: boolean }): CommandIO {
  const terminal = options.terminal === true;
  const askLine = (question: string, initial = ''): Promise<string | undefined> =>
    new Promise((resolve) => {
      const { createInterface } = process.getBuiltinModule('node:readline');
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      rl.question(question, (answer) => {
        rl.close();
        resolve(answer);
      });
      if (initial) rl.write(initial);
      rl.on('close', () => resolve(undefined));
    });
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    isTTY: terminal,
    columns: process.stdout.columns || 80,
    confirm: async (question) => {
      if (terminal && !options.assumeYes)
        return /^y(es)?$/i.test(((await askLine(`${question} [y/N] `)) ?? '').trim());
      process.stderr.write(
        `${question} [y/N] ${options.assumeYes ? 'yes (--yes)' : 'no (no terminal to ask; --yes allows)'}\n`,
      );
      return options.assumeYes;
    },
    ask: terminal ? (question, initial) => askLine(`${question} `, initial) : undefined,
  };
}
