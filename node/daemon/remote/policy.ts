import { errorLine } from '../../../schemas/errors.ts';
import type { ExecRefusal } from '../../../schemas/messages.ts';
import type { Store } from '../../core/store/store.ts';

/** The tier classifier of node/tiers: this machine's rules with this machine's overrides. */
export type Classifier = (line: string) => { tier: number; reason: string };

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
  let verdict: { tier: number; reason: string };
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
  return undefined;
}

function normaliseTier(tier: number): 1 | 2 | 2.5 | 3 | 4 {
  if (tier <= 1) return 1;
  if (tier <= 2) return 2;
  if (tier <= 2.5) return 2.5;
  if (tier <= 3) return 3;
  return 4;
}
