/**
 * What the persistent bash reports after each command (`alias -p` then `declare -F`, see
 * bash-rc.ts): the names it defines, and each alias's text, which the tier check classifies in
 * place of the alias (`gs` runs as `git status`; `alias rm='rm -rf'` makes `rm /` a tier 4).
 */
export interface SessionNames {
  /** Aliases and functions. */
  names: Set<string>;
  aliases: Map<string, string>;
}

export function parseSessionNames(text: string): SessionNames {
  const names = new Set<string>();
  const aliases = new Map<string, string>();
  for (const line of text.split('\n')) {
    const alias = /^alias (?:-- )?([^=\s]+)='(.*)'$/.exec(line);
    if (alias) {
      names.add(alias[1]!);
      aliases.set(alias[1]!, alias[2]!.replaceAll("'\\''", "'"));
      continue;
    }
    const fn = /^declare -f[a-z]* (\S+)$/.exec(line);
    if (fn) names.add(fn[1]!);
    else if (/^[\w.:-]+$/.test(line)) names.add(line);
  }
  return { names, aliases };
}
