import { type ConfirmAsk, type ConfirmClosed, connectNode, type NodeClient } from '../ipc/client.ts';
import type { LineEditor } from './line-editor.ts';
import { networkConfigured } from './network-state.ts';

/**
 * The interactive shell's half of a tier-3 remote command's yes (node/daemon/remote/confirm.ts):
 * it keeps a connection to this machine's isaac-node as a shell that can answer, and when a
 * question comes while the prompt is up, it shows who asks and the exact command that would run,
 * then reads y/N. Keys typed in the first GUARD_MS after it appears are thrown away, so nothing
 * typed before the question (or in a burst right after it) answers it. Questions that arrive
 * while a command runs wait for the prompt, or for their timeout, which refuses.
 */
const RECONNECT_MS = 2000;
export const GUARD_MS = 600;

const OUTCOME: Record<ConfirmClosed['outcome'], string> = {
  yes: 'answered yes in another isaac shell here',
  no: 'answered no in another isaac shell here',
  timeout: 'no answer in time: refused',
  withdrawn: 'the sender cancelled it',
  closed: 'closed',
};

/** The command as it will run, with anything a terminal would not show plainly made visible. */
export function visible(cmd: string): string {
  return cmd.replace(
    /[\u0000-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu,
    (c) => `⟨U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}⟩`,
  );
}

export function askText(ask: ConfirmAsk, me: string): { header: string; prompt: string } {
  const seconds = Math.round(ask.timeoutMs / 1000);
  return {
    header:
      `\x1b[1;33m[${ask.from} asks to run this on ${me}: tier ${ask.tier}, ${ask.reason}]\x1b[0m\n` +
      `  ${visible(ask.cmd)}`,
    prompt: `run it here? y runs it, anything else refuses (${seconds} s) [y/N] `,
  };
}

export class RemoteConfirmPrompt {
  private client: NodeClient | undefined;
  private connecting = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: ConfirmAsk[] = [];
  private current: { id: string; cancel(): void; closedAs?: ConfirmClosed['outcome'] } | undefined;

  constructor(
    private readonly o: {
      home: string;
      me: () => string;
      editor: LineEditor;
      /** true while the main prompt waits for a line (not while a command runs) */
      atPrompt: () => boolean;
    },
  ) {}

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), RECONNECT_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.current?.cancel();
    this.client?.close();
    this.client = undefined;
  }

  /** Shows the next waiting question if the prompt is up; the REPL calls it at every prompt. */
  pump(): void {
    if (this.current || !this.o.atPrompt()) return;
    const ask = this.queue.shift();
    if (ask) this.show(ask);
  }

  private tick(): void {
    if (this.client?.connected || this.connecting || !networkConfigured(this.o.home)) return;
    this.connecting = true;
    void connectNode(this.o.home, 500)
      .then(async (client) => {
        if (!client) return;
        await client.registerConfirmer({ ask: (a) => this.asked(a), closed: (c) => this.closed(c) });
        this.client = client;
      })
      .catch(() => undefined)
      .finally(() => {
        this.connecting = false;
      });
  }

  private asked(ask: ConfirmAsk): void {
    this.queue.push(ask);
    this.pump();
  }

  private closed(closed: ConfirmClosed): void {
    const waiting = this.queue.findIndex((a) => a.id === closed.id);
    if (waiting >= 0) this.queue.splice(waiting, 1);
    if (this.current?.id === closed.id && !this.current.closedAs) {
      this.current.closedAs = closed.outcome;
      this.current.cancel();
    }
  }

  private show(ask: ConfirmAsk): void {
    const { header, prompt } = askText(ask, this.o.me());
    const question = this.o.editor.interject(header, prompt, GUARD_MS);
    const current: { id: string; cancel(): void; closedAs?: ConfirmClosed['outcome'] } = {
      id: ask.id,
      cancel: question.cancel,
    };
    this.current = current;
    void question.answer.then(async (answer) => {
      const print = (text: string) => this.o.editor.printAbove(text);
      if (current.closedAs) {
        this.current = undefined;
        print(`(${OUTCOME[current.closedAs]}: the command from ${ask.from} did not run from here)`);
        return this.pump();
      }
      const yes = /^y(es)?$/i.test((answer ?? '').trim());
      const taken = (await this.client?.answerConfirm(ask.id, yes)) ?? false;
      this.current = undefined;
      if (!taken) print(`too late: the question from ${ask.from} was closed already; it did not run`);
      else if (yes) print(`running it for ${ask.from}; the output goes back to ${ask.from}`);
      else print(`refused; ${ask.from} is told`);
      this.pump();
    });
  }
}
