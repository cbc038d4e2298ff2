import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CONFIG_KEYS } from '../core/store/config-keys.ts';
import type { Store } from '../core/store/store.ts';
import { SLASH_COMMANDS } from './commands/registry.ts';
import type { Completion } from './line-editor.ts';

const BANG_COMMANDS = ['!exec', '!msg', '!status', '!query'];

/** Tab completion for Isaac's prompt: `/` and `!` commands, config keys, machine names, file paths. */
export function completeLine(line: string, cursor: number, store: Store, cwd: string): Completion {
  const before = line.slice(0, cursor);
  const from = before.search(/\S*$/);
  const word = before.slice(from);
  const previous = before.slice(0, from).trim().split(/\s+/).filter(Boolean);
  const pick = (options: Iterable<string>) => ({
    from,
    candidates: [...new Set(options)].filter((o) => o.startsWith(word)).sort(),
  });

  if (before.startsWith('/')) {
    if (previous.length === 0) return pick(SLASH_COMMANDS.map((c) => `/${c.name.split(' ')[0]}`));
    const first = previous[0]!.slice(1);
    if (previous.length === 1) {
      const seconds = SLASH_COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map(
        (c) => c.name.split(' ')[1]!,
      );
      if (seconds.length > 0) return pick(seconds);
    }
    if ((first === 'set' || first === 'unset') && previous[1] === 'config' && previous.length === 2) {
      return pick([...Object.keys(CONFIG_KEYS), 'tier.']);
    }
  }
  if (before.startsWith('!')) {
    if (previous.length === 0) return pick(BANG_COMMANDS);
    if (previous.length === 1 && previous[0] !== '!query') {
      return pick([...store.machines.list().map((m) => m.name), 'all']);
    }
  }
  return { from, candidates: completePath(word, cwd) };
}

function completePath(word: string, cwd: string): string[] {
  const expanded = word.startsWith('~/') ? join(homedir(), word.slice(2)) : word;
  const dirPart = expanded.endsWith('/') ? expanded : dirname(expanded);
  const base = expanded.endsWith('/') ? '' : expanded.slice(expanded.lastIndexOf('/') + 1);
  const dir = resolve(cwd, word.includes('/') ? dirPart : '.');
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const prefix = word.includes('/') ? word.slice(0, word.lastIndexOf('/') + 1) : '';
  return entries
    .filter((e) => e.startsWith(base) && (base.startsWith('.') || !e.startsWith('.')))
    .slice(0, 500)
    .map((e) => {
      let isDir = false;
      try {
        isDir = statSync(join(dir, e)).isDirectory();
      } catch {
        // a dangling link completes like a file
      }
      return `${prefix}${e}${isDir ? '/' : ''}`;
    })
    .sort();
}
