import type { CommandIO } from '../commands/types.ts';

/**
 * CommandIO for `isaac -c` and script mode: plain stdout/stderr, and confirmations that nobody
 * can answer, so they follow --yes (and say so) instead of hanging or guessing.
 */
export function streamIO(options: { assumeYes: boolean }): CommandIO {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    isTTY: false,
    columns: process.stdout.columns || 80,
    confirm: async (question) => {
      process.stderr.write(
        `${question} [y/N] ${options.assumeYes ? 'yes (--yes)' : 'no (no terminal to ask; --yes allows)'}\n`,
      );
      return options.assumeYes;
    },
  };
}
