import { randomBytes } from 'node:crypto';
import type { ConfirmAsk, ConfirmClosed } from '../../ipc/protocol.ts';

/**
 * A yes typed on this machine for a tier-3 remote command (issue 11). The daemon asks every
 * interactive `isaac` shell open here (they register over the local socket); the first answer
 * decides: `y` runs it, anything else refuses, and so do no open shell, the shell closing, the
 * sender cancelling, and `remote.confirm_timeout` passing. Nothing that arrives from the network
 * can answer: the question's id is made here and goes only to the local shells.
 */
export interface Confirmer {
  ask(ask: ConfirmAsk): void;
  closed(closed: ConfirmClosed): void;
}

export type ConfirmOutcome = { yes: true } | { yes: false; reason: string };

export interface ConfirmQuestion {
  from: string;
  cmd: string;
  tier: number;
  reason: string;
  timeoutMs: number;
}

/** At most this many questions wait at once, one per sender: a member cannot bury the prompt. */
const MAX_WAITING = 4;

interface Waiting {
  ask: ConfirmAsk;
  asked: Set<Confirmer>;
  settle(outcome: ConfirmOutcome, closedAs: ConfirmClosed['outcome']): void;
}

export class RemoteConfirm {
  private readonly confirmers = new Set<Confirmer>();
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly me: string) {}

  /** A shell that can answer; also asked what waits now. Returns its unregistration. */
  register(confirmer: Confirmer): () => void {
    this.confirmers.add(confirmer);
    for (const w of this.waiting.values()) {
      w.asked.add(confirmer);
      confirmer.ask(w.ask);
    }
    return () => {
      this.confirmers.delete(confirmer);
      for (const w of [...this.waiting.values()]) {
        if (w.asked.delete(confirmer) && w.asked.size === 0)
          w.settle(
            { yes: false, reason: `the isaac shell on ${this.me} that was asked closed without an answer` },
            'closed',
          );
      }
    };
  }

  /** How many shells could answer now. */
  get shells(): number {
    return this.confirmers.size;
  }

  /** Asks the open shells (`asked` false: refused at once); `withdraw` ends the question (the sender cancelled). */
  ask(q: ConfirmQuestion): {
    asked: boolean;
    outcome: Promise<ConfirmOutcome>;
    withdraw(reason: string): void;
  } {
    const refused = (reason: string) => ({
      asked: false,
      outcome: Promise.resolve<ConfirmOutcome>({ yes: false, reason }),
      withdraw: () => {},
    });
    if (this.confirmers.size === 0)
      return refused(`no isaac shell is open on ${this.me} to type the yes it needs`);
    if ([...this.waiting.values()].some((w) => w.ask.from === q.from))
      return refused(`a command from ${q.from} already waits for a yes on ${this.me}: one at a time`);
    if (this.waiting.size >= MAX_WAITING)
      return refused(`${MAX_WAITING} commands already wait for a yes on ${this.me}`);
    const ask: ConfirmAsk = {
      id: randomBytes(12).toString('hex'),
      from: q.from,
      cmd: q.cmd,
      tier: q.tier,
      reason: q.reason,
      timeoutMs: q.timeoutMs,
    };
    let settle!: Waiting['settle'];
    const outcome = new Promise<ConfirmOutcome>((resolve) => {
      const timer = setTimeout(
        () =>
          settle(
            {
              yes: false,
              reason: `nobody answered on ${this.me} within ${Math.round(q.timeoutMs / 1000)} s`,
            },
            'timeout',
          ),
        q.timeoutMs,
      );
      timer.unref();
      settle = (result, closedAs) => {
        const w = this.waiting.get(ask.id);
        if (!w) return;
        clearTimeout(timer);
        this.waiting.delete(ask.id);
        for (const c of w.asked) c.closed({ id: ask.id, outcome: closedAs });
        resolve(result);
      };
    });
    const waiting: Waiting = { ask, asked: new Set(this.confirmers), settle };
    this.waiting.set(ask.id, waiting);
    for (const c of waiting.asked) c.ask(ask);
    return {
      asked: true,
      outcome,
      withdraw: (reason) => waiting.settle({ yes: false, reason }, 'withdrawn'),
    };
  }

  /** A shell's answer; false when the question is closed already or was never put to it. */
  answer(id: string, yes: boolean, from: Confirmer): boolean {
    const w = this.waiting.get(id);
    if (!w?.asked.has(from)) return false;
    w.settle(
      yes ? { yes: true } : { yes: false, reason: `declined on ${this.me}: the answer was no` },
      yes ? 'yes' : 'no',
    );
    return true;
  }
}
