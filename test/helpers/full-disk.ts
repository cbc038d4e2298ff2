import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A small real filesystem (tmpfs) that a test can fill up and free again. */
export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the filesystem refuses with ENOSPC. */
  fill(): void;
  /** Removes the filler file. */
  free(): void;
}

/** Why a small tmpfs cannot be mounted here (not root, no mount), or undefined when it can. */
export function smallDiskUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'no mount program';
  }
  return undefined;
}

/** Mounts a tmpfs of `size` (e.g. "2m") for this test; unmounted afterwards, pass or fail. */
export function smallDisk(t: Pick<TestContext, 'after'>, size = '2m'): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'isaac-small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.after(() => {
    try {
      execFileSync('umount', ['-l', dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        for (const chunk of [65536, 4096, 512, 1]) {
          const bytes = Buffer.alloc(chunk, 0x5a);
          try {
            for (;;) writeSync(fd, bytes);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
  };
}
