import { lstatSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The command names this machine knows: executables on PATH plus bash builtins and keywords.
 * Listing PATH costs a few milliseconds, so the set is cached and re-read only when PATH or a PATH
 * directory's mtime changes (checked at most once a second).
 */

export const SHELL_BUILTINS: readonly string[] = [
  ...'alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown echo'.split(
    ' ',
  ),
  ...'enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile'.split(
    ' ',
  ),
  ...'popd printf pushd pwd read readarray readonly return set shift shopt source suspend test times trap true'.split(
    ' ',
  ),
  ...'type typeset ulimit umask unalias unset wait . : [ [['.split(' '),
  ...'if then else elif fi case esac for select while until do done in function time coproc { } ! ]]'.split(
    ' ',
  ),
];

interface Cache {
  path: string;
  mtimes: number[];
  names: Set<string>;
  checkedAt: number;
}

let cache: Cache | undefined;
const RECHECK_MS = 1000;

function dirsOf(path: string): string[] {
  return [...new Set(path.split(delimiter).filter((d) => d.length > 0))];
}

function mtimeOf(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return -1;
  }
}

function list(path: string): Cache {
  const dirs = dirsOf(path);
  const names = new Set<string>(SHELL_BUILTINS);
  for (const dir of dirs) {
    try {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) names.add(entry.name);
      }
    } catch {
      // A PATH entry that does not exist or cannot be read simply adds nothing.
    }
  }
  return { path, mtimes: dirs.map(mtimeOf), names, checkedAt: Date.now() };
}

/** Every executable name on PATH plus builtins; cached. */
export function commandsOnPath(path: string = process.env['PATH'] ?? ''): ReadonlySet<string> {
  const now = Date.now();
  if (cache && cache.path === path) {
    if (now - cache.checkedAt < RECHECK_MS) return cache.names;
    const fresh = dirsOf(path).map(mtimeOf);
    if (fresh.length === cache.mtimes.length && fresh.every((m, k) => m === cache!.mtimes[k])) {
      cache.checkedAt = now;
      return cache.names;
    }
  }
  cache = list(path);
  return cache.names;
}

/** For ClassifyOptions.commandExists. Names with a slash are checked as paths. */
export function commandExists(name: string): boolean {
  if (name.includes('/')) {
    try {
      return statSync(name).isFile();
    } catch {
      return false;
    }
  }
  const path = process.env['PATH'] ?? '';
  if (cache?.path === path) return commandsOnPath(path).has(name);
  // Not listed yet: look the one name up (a few lstat calls) instead of reading every PATH
  // directory, which `isaac -c` would pay for on every line. Same answer as the listing:
  // builtins, then any entry of a PATH directory that is not a directory.
  return SHELL_BUILTINS.includes(name) || dirsOf(path).some((dir) => isEntry(join(dir, name)));
}

function isEntry(file: string): boolean {
  try {
    const st = lstatSync(file, { throwIfNoEntry: false });
    return st !== undefined && !st.isDirectory();
  } catch {
    return false; // a name no file can have (NUL), or an unreadable directory
  }
}

/**
 * For ClassifyOptions.candidates: command names from history first (most recent first, so the
 * names a user actually types win ties), then builtins and PATH executables.
 */
export function* commandCandidates(historyLines: Iterable<string> = []): Generator<string> {
  const names = commandsOnPath();
  const counts = new Map<string, number>();
  for (const line of historyLines) {
    const first = /^\s*(?:sudo\s+)?([A-Za-z0-9_.+-]+)/.exec(line)?.[1];
    if (first) counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  // A name typed more than once is probably an alias or function; a one-off may be a typo itself.
  for (const [name, count] of counts) if (names.has(name) || count > 1) yield name;
  yield* names;
}

/** Forgets the cached listing (after installing something, or in tests that change PATH). */
export function refreshCommands(): void {
  cache = undefined;
}
