import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The environment of the user's login shell, read once when the node starts and again only on
 * an explicit `isaac-node reload` (SIGHUP). Remote commands start with a plain `bash -c` and this
 * environment instead of running the profile on every `!exec`; they still see the PATH and
 * variables a login would give them. An edited profile is not picked up (nor run) until the
 * reload: a remote line that appends to ~/.profile cannot get the node to run it later.
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

/** Every login environment of this process, so one reload reaches them all. */
const live = new Set<WeakRef<LoginEnvironment>>();

export class LoginEnvironment {
  private env: Record<string, string> | undefined;
  private reading: Promise<void> | undefined;
  private read = false;

  constructor(
    private readonly shell = 'bash',
    private readonly files: readonly string[] = profileFiles(),
    private readonly baseEnv: NodeJS.ProcessEnv = process.env,
  ) {
    live.add(new WeakRef(this));
  }

  /** The login environment as last read; undefined before the first read or when it failed. */
  current(): Record<string, string> | undefined {
    return this.env;
  }

  /** Resolves once the first read (or a reload in progress) has finished. */
  ready(): Promise<void> {
    return this.reading ?? (this.read ? Promise.resolve() : this.refresh());
  }

  /** The profile files this environment comes from (for messages). */
  sources(): readonly string[] {
    return this.files;
  }

  /** Reads the login shell's environment again; a failure leaves none (commands then run with the node's own). */
  refresh(): Promise<void> {
    this.reading ??= new Promise<void>((resolve) => {
      execFile(
        this.shell,
        ['-lc', `printf '\\0ISAAC-LOGIN-ENV\\0'; exec env -0`],
        { cwd: homedir(), env: this.baseEnv, timeout: RESOLVE_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
        (err, stdout) => {
          this.env = err ? undefined : parseLoginEnv(stdout);
          this.read = true;
          this.reading = undefined;
          resolve();
        },
      );
    });
    return this.reading;
  }
}

/** `isaac-node reload` (SIGHUP): reads every live login environment again; resolves with how many. */
export async function reloadLoginEnvironments(): Promise<number> {
  const envs: LoginEnvironment[] = [];
  for (const ref of live) {
    const env = ref.deref();
    if (env) envs.push(env);
    else live.delete(ref);
  }
  await Promise.all(envs.map((e) => e.refresh()));
  return envs.length;
}
