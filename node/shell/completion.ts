import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CONFIG_KEYS } from '../core/store/config-keys.ts';
import type { Store } from '../core/store/store.ts';
import { COMMANDS, type CommandPrefix, namesOf } from './commands/registry.ts';
import type { Completion } from './line-editor.ts';

/** Every name (and alias) of one prefix's commands, as typed: `show history`, `exec`, `import`. */
function registeredNames(kind: CommandPrefix): string[] {
  return COMMANDS.filter((c) => c.kind === kind).flatMap(namesOf);
}

/**
 * Tab completion for Isaac's prompt: the registered `/`, `!` and `isaac` commands, config keys,
 * machine names, file paths.
 */
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
    const names = registeredNames('/');
    if (previous.length === 0) return pick(names.map((n) => `/${n.split(' ')[0]}`));
    const first = previous[0]!.slice(1);
    if (previous.length === 1) {
      const seconds = names.filter((n) => n.startsWith(`${first} `)).map((n) => n.split(' ')[1]!);
      if (seconds.length > 0) return pick(seconds);
    }
    if ((first === 'set' || first === 'unset') && previous[1] === 'config' && previous.length === 2) {
      return pick([...Object.keys(CONFIG_KEYS), 'tier.']);
    }
  }
  if (before.startsWith('!')) {
    // `!NAME CMD` is `!exec NAME CMD`, so members complete here too
    const members = store.machines.members().map((m) => `!${m.name}`);
    if (previous.length === 0) return pick([...registeredNames('!').map((n) => `!${n}`), ...members]);
    if (previous.length === 1 && ['!exec', '!msg', '!status'].includes(previous[0]!)) {
      return pick([...store.machines.list().map((m) => m.name), ...(previous[0] === '!exec' ? ['all'] : [])]);
    }
  }
  if (previous.length === 1 && previous[0] === 'isaac') return pick(registeredNames('isaac'));
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
