import type { NetworkKeyRotation } from '../identity/rotation-daemon.ts';
import type { Handler } from './types.ts';

/** A rotated network key: installed inside the transaction, the own roster entry re-published after. */
export function networkKeyHandler(d: { rotation: NetworkKeyRotation }): Handler<'network-key'> {
  return {
    apply: (env) => d.rotation.apply(env),
    after: (env) => d.rotation.afterApply(env),
  };
}
