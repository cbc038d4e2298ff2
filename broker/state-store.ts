import type { BrokerState, MachineRow } from './state.ts';

/**
 * What the broker's auth needs from its state, with one async interface for both backends: the
 * local SQLite file (one broker; broker/state.ts, synchronous underneath) and Redis (cluster mode,
 * broker/state-redis.ts), where every broker of the cluster sees an enroll, a revoke or a used
 * nonce at once.
 */
export interface BrokerStateStore {
  readonly kind: 'sqlite' | 'redis';
  machine(name: string): Promise<MachineRow | undefined>;
  machines(): Promise<MachineRow[]>;
  /**
   * Adds a machine, or makes a revoked name a member again; false (nothing changed) when the name
   * is enrolled and not revoked. Atomic across the brokers of a cluster.
   */
  enrollNew(name: string, secret: Uint8Array, nowMs?: number): Promise<boolean>;
  /** Marks the machine revoked and forgets its secret; false if unknown or already revoked. */
  revoke(name: string, nowMs?: number): Promise<boolean>;
  networkPk(): Promise<Uint8Array | undefined>;
  setupTokenMatches(token: string): Promise<boolean>;
  /**
   * Binds the network key, consumes the setup token and enrolls the first machine, atomically and
   * only if nothing is bound yet and the token still matches (false: another bind won).
   */
  bind(
    networkPk: Uint8Array,
    setupToken: string,
    name: string,
    secret: Uint8Array,
    nowMs?: number,
  ): Promise<boolean>;
  /** Compare-and-set of the bound network key (op `rotate`). */
  rotateNetworkKey(expected: Uint8Array, next: Uint8Array, nowMs?: number): Promise<boolean>;
  /** The keys rotations replaced and when, newest first (never used to accept anything). */
  retiredNetworkKeys(): Promise<{ pk: Uint8Array; retiredAt: number }[]>;
  addObserver(name: string, password: string, nowMs?: number): Promise<void>;
  removeObserver(name: string): Promise<boolean>;
  observers(): Promise<string[]>;
  /** undefined: no such observer; otherwise whether the password matches. */
  observerPasswordMatches(name: string, password: string): Promise<boolean | undefined>;
  /** Records a nonce until it expires; false if any broker of the network already saw it. */
  rememberNonce(nonce: string, expiresMs: number): Promise<boolean>;
  pruneNonces(nowMs?: number): Promise<number>;
  /** Tells the other brokers of the cluster to close this machine's live session (no-op alone). */
  announceRevoked(name: string): Promise<void>;
  /** Called for revocations announced by the other brokers of the cluster. */
  onRevoked(listener: (name: string) => void): void;
  close(): Promise<void>;
}

/** The single-broker store: DATA/broker-state.db, synchronous (and so atomic) underneath. */
export function sqliteStateStore(state: BrokerState): BrokerStateStore {
  return {
    kind: 'sqlite',
    machine: async (name) => state.machine(name),
    machines: async () => state.machines(),
    enrollNew: async (name, secret, nowMs) => state.enrollNew(name, secret, nowMs),
    revoke: async (name, nowMs) => state.revoke(name, nowMs),
    networkPk: async () => state.networkPk(),
    setupTokenMatches: async (token) => state.setupTokenMatches(token),
    async bind(networkPk, setupToken, name, secret, nowMs) {
      if (state.networkPk() || !state.setupTokenMatches(setupToken)) return false;
      state.bind(networkPk, name, secret, nowMs);
      return true;
    },
    rotateNetworkKey: async (expected, next, nowMs) => state.rotateNetworkKey(expected, next, nowMs),
    retiredNetworkKeys: async () => state.retiredNetworkKeys(),
    addObserver: async (name, password, nowMs) => state.addObserver(name, password, nowMs),
    removeObserver: async (name) => state.removeObserver(name),
    observers: async () => state.observers(),
    observerPasswordMatches: async (name, password) => state.observerPasswordMatches(name, password),
    rememberNonce: async (nonce, expiresMs) => state.rememberNonce(nonce, expiresMs),
    pruneNonces: async (nowMs) => state.pruneNonces(nowMs),
    announceRevoked: async () => undefined,
    onRevoked: () => undefined,
    // the server owns and closes the BrokerState itself (it also keeps it in cluster mode)
    close: async () => undefined,
  };
}
