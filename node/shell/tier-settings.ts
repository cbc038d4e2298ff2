import type { Store } from '../store/store.ts';
import { commandCandidates, commandExists } from '../tiers/commands-on-path.ts';
import { type Classification, classify, type Tier, tierOverridesFromConfig } from '../tiers/index.ts';

/** Classifies a line with this machine's tier settings: overrides, default tier, known commands. */
export function classifyWithSettings(line: string, store: Store): Classification {
  const config = store.config;
  return classify(line, {
    overrides: tierOverridesFromConfig(config.all()),
    defaultTier: Number(config.get('tier.default') ?? '2') as Tier,
    commandExists,
    candidates: () => commandCandidates(store.history.recentLines(500)),
  });
}
