import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { UsageError } from '../../../schemas/errors.ts';
import type { HistoryShell } from './parsers.ts';

/** Shells `auto` looks for; Atuin is imported when named. */
export const SHELLS: readonly HistoryShell[] = ['bash', 'zsh', 'fish'];
const SOURCES: readonly HistoryShell[] = [...SHELLS, 'atuin'];

export function isHistoryShell(name: string): name is HistoryShell {
  return (SOURCES as readonly string[]).includes(name);
}

/** The user's login shell from $SHELL, when it is one we can import. */
export function loginShell(env: NodeJS.ProcessEnv): HistoryShell | undefined {
  const name = env.SHELL ? basename(env.SHELL) : '';
  return (SHELLS as readonly string[]).includes(name) ? (name as HistoryShell) : undefined;
}

/**
 * Where a shell keeps its history by default. $HISTFILE is a shell variable of the login shell,
 * so it is honoured only for that shell (an exported zsh HISTFILE must not become bash's file).
 */
export function defaultHistoryFiles(shell: HistoryShell, env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME && env.HOME.length > 0 ? env.HOME : homedir();
  const histfile = env.HISTFILE && env.HISTFILE.length > 0 ? env.HISTFILE : undefined;
  const own = histfile && (loginShell(env) === shell || env.SHELL === undefined) ? [histfile] : [];
  switch (shell) {
    case 'bash':
      return [...own, join(home, '.bash_history')];
    case 'zsh': {
      const dir = env.ZDOTDIR && env.ZDOTDIR.length > 0 ? env.ZDOTDIR : home;
      return [...own, join(dir, '.zsh_history'), join(dir, '.zhistory')];
    }
    case 'fish':
      return [join(dataHome(env, home), 'fish', 'fish_history')];
    case 'atuin':
      return [join(dataHome(env, home), 'atuin', 'history.db')];
  }
}

function dataHome(env: NodeJS.ProcessEnv, home: string): string {
  return env.XDG_DATA_HOME && env.XDG_DATA_HOME.length > 0
    ? env.XDG_DATA_HOME
    : join(home, '.local', 'share');
}

/** The first default file that exists, else the preferred one (for the error message). */
export function defaultHistoryFile(shell: HistoryShell, env: NodeJS.ProcessEnv): string {
  const candidates = defaultHistoryFiles(shell, env);
  return candidates.find((f) => existsSync(f)) ?? candidates[0]!;
}

/** `auto` without a file: the login shell's history if it exists, else the first shell that has one. */
export function detectShell(env: NodeJS.ProcessEnv): { shell: HistoryShell; file: string } {
  const preferred = loginShell(env);
  const order = preferred ? [preferred, ...SHELLS.filter((s) => s !== preferred)] : [...SHELLS];
  for (const shell of order) {
    const file = defaultHistoryFiles(shell, env).find((f) => existsSync(f));
    if (file) return { shell, file };
  }
  const looked = order.map((s) => defaultHistoryFiles(s, env)[0]).join(', ');
  throw new UsageError(`no shell history found (looked at ${looked})`, {
    hint: 'give the shell and file: isaac import bash|zsh|fish FILE',
  });
}
