import type { TestContext } from 'node:test';
import { openStore, type Store } from '../../node/core/store/store.ts';
import { type Assistant, createAssistant } from '../../node/shell/ai/assistant.ts';
import { tempDir } from './tmp.ts';

/** A real store in a temp ISAAC_HOME with the given config, closed when the test ends. */
export function aiStore(t: Pick<TestContext, 'after'>, config: Record<string, string> = {}): Store {
  const store = openStore(tempDir(t, 'isaac-ai-'));
  t.after(() => store.close());
  store.config.set('machine.name', 'laptop');
  for (const [key, value] of Object.entries(config)) store.config.set(key, value);
  return store;
}

/** An assistant with fast retries and only the env given (never the developer's real keys). */
export function aiAssistant(store: Store, env: NodeJS.ProcessEnv = {}): Assistant {
  return createAssistant({ store, env, retryBaseMs: 10, cwd: () => '/home/me/src', shell: () => 'bash' });
}
