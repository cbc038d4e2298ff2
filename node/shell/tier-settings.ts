import type { Store } from '../core/store/store.ts';
import { commandCandidates, commandExists } from '../core/tiers/commands-on-path.ts';
import { type Classification, classify, tierOverridesFromConfig } from '../core/tiers/index.ts';

/**
 * Classifies a line with this machine's tier settings: overrides, default tier, known commands
 * (PATH, builtins, and `sessionNames`: the aliases and functions of the running shell), and what
 * the session's aliases run (`sessionAliases`).
 */
export function classifyWithSettings(
  line: string,
  store: Store,
  sessionNames: ReadonlySet<string> = new Set(),
  sessionAliases?: ReadonlyMap<string, string>,
): Classification {
  const config = store.config;
  return classify(line, {
    ...(sessionAliases ? { aliases: sessionAliases } : {}),
    overrides: tierOverridesFromConfig(config.all()),
    defaultTier: config.tier('tier.default'),
    commandExists: (name) => sessionNames.has(name) || commandExists(name),
    candidates: () => commandCandidates(store.history.recentLines(500)),
  });
}
