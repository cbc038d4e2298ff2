import { idHex } from './bus/envelope-port.ts';

/** Pings this machine sent and waits for, matched to their pongs by `corr`. */
export class Pings {
  private readonly waiting = new Map<string, () => void>();

  /** Sends one ping (`send` returns its envelope id); resolves with the round trip in ms, or undefined on timeout. */
  measure(send: () => Uint8Array, timeoutMs: number): Promise<number | undefined> {
    const started = performance.now();
    const key = idHex(send());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(key, () => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(performance.now() - started);
      });
    });
  }

  answered(corr: Uint8Array): void {
    this.waiting.get(idHex(corr))?.();
  }
}
