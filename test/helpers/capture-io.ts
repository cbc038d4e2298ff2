import type { CommandIO } from '../../node/shell/commands/types.ts';

export type CapturedIO = CommandIO & { outText: string; errText: string; readonly text: string };

/** A non-TTY CommandIO that records what a command prints; confirmations answer `answers` in turn, then no. */
export function captureIO(answers: boolean[] = []): CapturedIO {
  const queue = [...answers];
  const io: CapturedIO = {
    outText: '',
    errText: '',
    get text() {
      return io.outText + io.errText;
    },
    out(text: string) {
      io.outText += text;
    },
    err(text: string) {
      io.errText += text;
    },
    isTTY: false,
    columns: 80,
    confirm: async () => queue.shift() ?? false,
  };
  return io;
}
