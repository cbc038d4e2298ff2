import type { Store } from '../core/store/store.ts';
import { assistantFor } from './commands/ai.ts';
import type { CommandContext } from './commands/types.ts';

/** True when some AI provider is configured (a key or a local endpoint); never touches the network. */
export function aiConfigured(ctx: Pick<CommandContext, 'store' | 'env'>): boolean {
  try {
    return assistantFor(ctx).providers().length > 0;
  } catch {
    return false;
  }
}

/** Tier-3 review by the AI, or undefined when none is configured (the local reason stands alone). */
export async function aiReviewRisk(
  ctx: Pick<CommandContext, 'store' | 'env'>,
  line: string,
  localReason: string,
): Promise<string | undefined> {
  if (!aiConfigured(ctx)) return undefined;
  return await assistantFor(ctx).reviewRisk(line, localReason);
}

/** The AI's fix for a command that failed as "not found" or with a usage error, if any. */
export async function aiSuggestFix(
  ctx: Pick<CommandContext, 'store' | 'env'>,
  line: string,
  exit: number,
  output: string,
): Promise<string | undefined> {
  if (!aiConfigured(ctx)) return undefined;
  return await assistantFor(ctx).suggestFix(line, exit, output);
}

/** Answers questions queued while offline; the answers land in `messages` for the prompt to show. */
export async function drainQueuedQuestions(store: Store, env: NodeJS.ProcessEnv): Promise<void> {
  const ctx = { store, env };
  if (!aiConfigured(ctx)) return;
  const assistant = assistantFor(ctx);
  if (assistant.pendingCount() === 0) return;
  await assistant.drainPending().catch(() => undefined);
}
