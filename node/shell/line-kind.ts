/**
 * True when `rawLine` would run in the user's shell (after the tier check), not as a `/`, `!`
 * or `isaac` command, an `exit`, a comment or nothing: the prefixes router.ts dispatches on.
 * `isaac -c` then starts bash at once, beside everything else it has to do first.
 */
export function isShellLine(rawLine: string): boolean {
  const line = rawLine.trim();
  if (line === '' || line.startsWith('#') || line.startsWith('/') || line.startsWith('!')) return false;
  return !/^isaac(\s|$)/.test(line) && !/^(exit|logout)(\s+\d+)?$/.test(line);
}

/** The default shell.program, which `isaac -c` starts before it can read the configured one. */
export const EARLY_SHELL = 'bash';
