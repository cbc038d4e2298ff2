import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A fresh temp dir removed when the test (or suite) ends, pass or fail. */
export function tempDir(t: Pick<TestContext, 'after'>, prefix = 'isaac-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => removeNow(dir));
  return dir;
}

const leftForExit = new Set<string>();

/**
 * Removes a temp dir, or, when something still writes in it (a process another test hook stops
 * after this one: hooks run in the order registered), removes it when the test process exits. It
 * never throws: a failing hook would skip the hooks after it, and a process they stop would keep
 * the test file running until its timeout.
 */
function removeNow(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  } catch {
    if (leftForExit.size === 0)
      process.once('exit', () => {
        for (const left of leftForExit) rmSync(left, { recursive: true, force: true, maxRetries: 3 });
      });
    leftForExit.add(dir);
  }
}

/** An ephemeral TCP port on loopback that was free a moment ago. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `check` returns a truthy value, polling; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string | (() => string),
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
