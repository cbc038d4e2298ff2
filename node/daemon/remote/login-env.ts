import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The environment of the user's login shell, resolved once and reused while the profile files
 * are unchanged (as editors resolve a "shell environment"). Remote commands then start with a
 * plain `bash -c` and this environment instead of paying the profile's start-up on every
 * `!exec`; they still see the PATH and variables a login would give them.
 */

/** Printed before `env -0` so whatever the profile itself prints is skipped. */
const MARK = '\0ISAAC-LOGIN-ENV\0';
/** Set by bash itself for each process; copying them would be wrong for the next one. */
const PER_PROCESS = new Set(['_', 'SHLVL', 'PWD', 'OLDPWD']);
const RESOLVE_TIMEOUT_MS = 10_000;

export function profileFiles(home: string = homedir()): string[] {
  return [
    '/etc/profile',
    '/etc/bash.bashrc',
    ...['.profile', '.bash_profile', '.bash_login', '.bashrc'].map((f) => join(home, f)),
  ];
}

/** Changes whenever a profile file appears, disappears or is edited. */
export function profileStamp(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

/** Parses what follows the mark in `env -0` output; undefined unless it is a list of NAME=value entries. */
export function parseLoginEnv(output: string): Record<string, string> | undefined {
  const at = output.lastIndexOf(MARK);
  if (at < 0) return undefined;
  const env: Record<string, string> = {};
  for (const entry of output.slice(at + MARK.length).split('\0')) {
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) return undefined;
    const name = entry.slice(0, eq);
    if (!PER_PROCESS.has(name)) env[name] = entry.slice(eq + 1);
  }
  return env.PATH === undefined ? undefined : env;
}

export class LoginEnvironment {
  private env: Record<string, string> | undefined;
  private stamp = '';
  private resolving: Promise<void> | undefined;

  constructor(
    private readonly shell = 'bash',
    private readonly files: readonly string[] = profileFiles(),
    private readonly baseEnv: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The cached login environment if the profile is unchanged since it was read; else undefined (and a refresh starts). */
  current(): Record<string, string> | undefined {
    const stamp = profileStamp(this.files);
    if (this.env && stamp === this.stamp) return this.env;
    void this.refresh();
    return undefined;
  }

  /** Reads the login shell's environment again; a failure leaves the cache empty (commands then use `bash -lc`). */
  refresh(): Promise<void> {
    this.resolving ??= new Promise<void>((resolve) => {
      const stamp = profileStamp(this.files);
      execFile(
        this.shell,
        ['-lc', `printf '\\0ISAAC-LOGIN-ENV\\0'; exec env -0`],
        { cwd: homedir(), env: this.baseEnv, timeout: RESOLVE_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
        (err, stdout) => {
          const env = err ? undefined : parseLoginEnv(stdout);
          this.env = env;
          this.stamp = env ? stamp : '';
          this.resolving = undefined;
          resolve();
        },
      );
    });
    return this.resolving;
  }
}
