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
 * What a remote !exec gets here: it runs, it runs after a yes typed in an isaac shell on this
 * machine (`confirm`: tier 3 within remote.max_tier, every part proven, nothing hidden in how it
 * would be shown), or it is refused with the reason sent back to the sender. Order matters only
 * for which reason the sender sees; every check must pass. The policy fails closed: a line runs
 * only when every part of it is positively known to be within remote.max_tier; what the
 * classifier cannot prove is refused, also with a person at hand. Tier 4 never runs.
 * (Expired requests never get here: node/daemon/intake.ts answers them.)
 */
export type RemoteDecision =
  | { run: true }
  | { confirm: { tier: number; reason: string } }
  | { refuse: ExecRefusal };

export function remoteExecDecision(
  input: { from: string; cmd: string },
  policy: RemotePolicy,
  classify: Classifier,
): RemoteDecision {
  if (policy.broken)
    return { refuse: { reason: `the remote policy here is not valid: ${policy.broken}`, tier: 4 } };
  if (policy.allowFrom.length > 0 && !policy.allowFrom.includes(input.from)) {
    return { refuse: { reason: `${input.from} is not in remote.allow_from on this machine`, tier: 1 } };
  }
  let verdict: ReturnType<Classifier>;
  try {
    verdict = classify(input.cmd);
  } catch (err) {
    // classification failing closed: a command we cannot read is not run
    return { refuse: { reason: `cannot classify the command: ${String(err)}`, tier: 4 } };
  }
  const tier = normaliseTier(verdict.tier);
  if (tier >= 4) return { refuse: { reason: `tier 4, never runs: ${verdict.reason}`, tier: 4 } };
  if (tier > policy.maxTier) {
    return {
      refuse: {
        reason: `tier ${tier} is above remote.max_tier ${policy.maxTier} here: ${verdict.reason}`,
        tier,
      },
    };
  }
  if (!verdict.unproven)
    return {
      refuse: { reason: 'cannot prove the command safe: the classifier ran without strict mode', tier },
    };
  const first = verdict.unproven[0];
  if (first) {
    const more = verdict.unproven.length > 1 ? ` (and ${verdict.unproven.length - 1} more)` : '';
    return {
      refuse: {
        reason: `not proven safe, so not run remotely: ${first.reason} in \`${first.part}\`${more}`,
        tier,
      },
    };
  }
  if (tier < 3) return { run: true };
  const hidden = hiddenInPrompt(input.cmd);
  if (hidden)
    return {
      refuse: { reason: `tier 3 and ${hidden}, which could hide what would run: not asked here`, tier },
    };
  return { confirm: { tier, reason: verdict.reason } };
}

/**
 * The refusal of a remote !exec that may not run by itself, or undefined to run. A line that
 * would need a yes typed here is refused too: this is the answer when no one can be asked.
 */
export function checkRemoteExec(
  input: { from: string; cmd: string },
  policy: RemotePolicy,
  classify: Classifier,
): ExecRefusal | undefined {
  const decision = remoteExecDecision(input, policy, classify);
  if ('refuse' in decision) return decision.refuse;
  if ('confirm' in decision)
    return {
      reason: `tier 3 needs a yes typed on this machine: ${decision.confirm.reason}; run it in an isaac shell here`,
      tier: decision.confirm.tier,
    };
  return undefined;
}

/** Longest command shown for a yes; a longer one is refused rather than shown in part. */
export const MAX_CONFIRM_CHARS = 2000;

/**
 * Why `cmd` cannot be shown as exactly what runs: control characters (a carriage return or an
 * escape sequence can overwrite what the terminal shows), invisible or direction-changing
 * characters, other line breaks, whitespace runs that push its end out of sight, or a length
 * beyond MAX_CONFIRM_CHARS. undefined when it can be shown as is.
 */
export function hiddenInPrompt(cmd: string): string | undefined {
  const at = (i: number) => {
    const cp = cmd.codePointAt(i) ?? 0;
    return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} at ${i + 1}`;
  };
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(cmd);
  if (control) return `it contains a control character (${at(control.index)})`;
  const invisible = /[\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Cn}]|[^\P{Zs} ]/u.exec(cmd);
  if (invisible) return `it contains an invisible or unusual character (${at(invisible.index)})`;
  if (/ {8,}/.test(cmd)) return 'it contains a run of spaces that could push its end out of sight';
  if (cmd.length > MAX_CONFIRM_CHARS) return `it is longer than ${MAX_CONFIRM_CHARS} characters`;
  return undefined;
}

function normaliseTier(tier: number): 1 | 2 | 2.5 | 3 | 4 {
  if (tier <= 1) return 1;
  if (tier <= 2) return 2;
  if (tier <= 2.5) return 2.5;
  if (tier <= 3) return 3;
  return 4;
}
