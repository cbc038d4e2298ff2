import { errorLine } from '../../../schemas/errors.ts';
import type { ExecRefusal } from '../../../schemas/messages.ts';
import type { Store } from '../../core/store/store.ts';

/**
 * The tier classifier of node/core/tiers in strict mode (`classify(line, { strict: true })`), with
 * this machine's rules and overrides. `unproven` lists what it could not prove safe; a classifier
 * that returns no list proves nothing, so every line is refused (fail closed).
 */
export type Classifier = (line: string) => {
  tier: number;
  reason: string;
  unproven?: readonly { part: string; reason: string }[] | undefined;
};

export interface RemotePolicy {
  maxTier: number;
  allowFrom: readonly string[];
  timeoutMs: number;
  /** Set when a remote.* setting here is not valid: every request is refused with this line. */
  broken?: string;
}

/** This machine's remote.* settings; a bad stored value fails closed (`broken`), never open. */
export function remotePolicy(store: Store): RemotePolicy {
  try {
    return {
      maxTier: store.config.tier('remote.max_tier'),
      allowFrom: store.config.list('remote.allow_from'),
      timeoutMs: store.config.number('remote.timeout') * 1000,
    };
  } catch (err) {
    return { maxTier: 0, allowFrom: [], timeoutMs: 0, broken: errorLine(err) };
  }
}

/**
 * Decides whether a remote !exec may run here. Returns the refusal sent back to the sender, or
 * undefined to run. Order matters only for which reason the sender sees; every check must pass.
 * The policy fails closed: a line runs only when every part of it is positively known to be
 * within remote.max_tier; what the classifier cannot prove is refused. Tier 3 is refused whatever
 * remote.max_tier says until a yes can be typed on this machine (never silence).
 * (Expired requests never get here: node/daemon/intake.ts answers them.)
 */
export function checkRemoteExec(
  input: { from: string; cmd: string },
  policy: RemotePolicy,
  classify: Classifier,
): ExecRefusal | undefined {
  if (policy.broken) return { reason: `the remote policy here is not valid: ${policy.broken}`, tier: 4 };
  if (policy.allowFrom.length > 0 && !policy.allowFrom.includes(input.from)) {
    return { reason: `${input.from} is not in remote.allow_from on this machine`, tier: 1 };
  }
  let verdict: ReturnType<Classifier>;
  try {
    verdict = classify(input.cmd);
  } catch (err) {
    // classification failing closed: a command we cannot read is not run
    return { reason: `cannot classify the command: ${String(err)}`, tier: 4 };
  }
  const tier = normaliseTier(verdict.tier);
  if (tier >= 4) return { reason: `tier 4, never runs: ${verdict.reason}`, tier: 4 };
  if (tier > policy.maxTier) {
    return {
      reason: `tier ${tier} is above remote.max_tier ${policy.maxTier} here: ${verdict.reason}`,
      tier,
    };
  }
  if (tier >= 3) {
    return {
      reason: `tier 3 needs a yes typed on this machine, and remote confirmation is not available yet: ${verdict.reason}; run it in an isaac shell here`,
      tier,
    };
  }
  if (!verdict.unproven)
    return { reason: 'cannot prove the command safe: the classifier ran without strict mode', tier };
  const first = verdict.unproven[0];
  if (first) {
    const more = verdict.unproven.length > 1 ? ` (and ${verdict.unproven.length - 1} more)` : '';
    return {
      reason: `not proven safe, so not run remotely: ${first.reason} in \`${first.part}\`${more}`,
      tier,
    };
  }
  return undefined;
}

function normaliseTier(tier: number): 1 | 2 | 2.5 | 3 | 4 {
  if (tier <= 1) return 1;
  if (tier <= 2) return 2;
  if (tier <= 2.5) return 2.5;
  if (tier <= 3) return 3;
  return 4;
}
