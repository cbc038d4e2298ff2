import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { IsaacError } from '../../../schemas/errors.ts';

/** `$ISAAC_HOME/node.pid`: the running daemon's pid, created exclusively. */
export function lockPath(home: string): string {
  return join(home, 'node.pid');
}

export interface HomeLock {
  release(): void;
}

/**
 * Makes this process the one isaac-node of `home`: the pid file is created with O_EXCL, so of two
 * daemons starting together exactly one wins; a pid file whose process is gone (a crash, a
 * reboot) is stale and taken over. The socket's presence proves nothing (it can be deleted).
 */
export function acquireHomeLock(home: string): HomeLock {
  const file = lockPath(home);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      if (holder !== undefined && holder !== process.pid && isaacNodeAlive(holder)) {
        throw new IsaacError(`isaac-node is already running for ${home} (pid ${holder})`, {
          hint: 'stop that one first (isaac-node status shows it); two daemons would fight over one MQTT session',
        });
      }
      removeIfStill(file, holder);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        removeIfStill(file, process.pid);
      },
    };
  }
  throw new IsaacError(`cannot take the lock file ${file}`, {
    hint: 'remove it if no isaac-node is running',
  });
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid runs, and (where /proc tells) it is an isaac-node rather than a reused pid. */
function isaacNodeAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /isaac-node|node[/\\]daemon/.test(cmdline);
  } catch {
    return true; // no /proc: a live pid is taken at its word
  }
}

/** Removes the pid file only while it still names `pid` (a newer daemon's file stays). */
function removeIfStill(file: string, pid: number | undefined): void {
  if (readHolder(file) !== pid) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
