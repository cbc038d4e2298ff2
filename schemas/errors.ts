/**
 * One error hierarchy for every Isaac program. Each error carries a message a user can act on:
 * what went wrong and, in `hint`, the next step ("run `isaac-node join` again").
 */
export interface IsaacErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class IsaacError extends Error {
  readonly code: string = 'ISAAC_ERROR';
  readonly hint: string | undefined;

  constructor(message: string, options: IsaacErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }

  /** The single line shown to a user. */
  toLine(): string {
    return this.hint ? `${this.message}: ${this.hint}` : this.message;
  }
}

/** Something the user typed or configured is wrong. Nothing was changed. */
export class UsageError extends IsaacError {
  override readonly code = 'USAGE';
}

/** A configuration value (file, flag, environment, /set config) is invalid. */
export class ConfigError extends IsaacError {
  override readonly code = 'CONFIG';
}

/** A payload from outside (MQTT, file import, AI provider reply) is malformed or untrusted. */
export class ProtocolError extends IsaacError {
  override readonly code = 'PROTOCOL';
}

/** Authentication or authorization was refused. */
export class AuthError extends IsaacError {
  override readonly code = 'AUTH';
}

/** The network, broker, peer or provider could not be reached. Work is queued where it can be. */
export class NetworkError extends IsaacError {
  override readonly code = 'NETWORK';
}

/** The local store could not be opened or written. */
export class StoreError extends IsaacError {
  override readonly code = 'STORE';
}

/** An AI provider answered with an error or nonsense. */
export class ProviderError extends IsaacError {
  override readonly code = 'PROVIDER';
}

/** Renders any thrown value as one line for a user. */
export function errorLine(err: unknown): string {
  if (err instanceof IsaacError) return err.toLine();
  if (err instanceof Error) return err.message;
  return String(err);
}
