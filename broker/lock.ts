import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../schemas/errors.ts';

export const LOCK_FILE = 'broker.lock';

/**
 * One running broker per data dir: two processes on the same sessions DB would each believe they
 * own every session. A lock left by a killed broker (its pid is gone) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          // already gone (directory removed): nothing to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readSafe(path));
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new UsageError(`${dataDir} is in use by isaac-broker (pid ${holder})`, {
          hint: 'stop that broker first; every broker of a cluster needs its own data dir (a copy)',
        });
      }
      try {
        unlinkSync(path);
      } catch {
        // another starter removed it first; the retry decides
      }
    }
  }
  throw new UsageError(`could not lock ${dataDir}`, { hint: 'another isaac-broker is starting there' });
}

function readSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
