import { IsaacError } from '../../../../schemas/errors.ts';

export type FetchFn = typeof globalThis.fetch;

/** Every provider Isaac can talk to; `none` in config means "AI off". */
export type ProviderName = 'anthropic' | 'openai' | 'xai' | 'ollama' | 'openai-compatible';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  system: string;
  messages: ChatMessage[];
  maxTokens?: number;
  /** Each streamed piece of the reply, as it arrives. */
  onToken?: (token: string) => void;
  /** Aborting it (Ctrl-C) cancels the request; the call rejects with CancelledError. */
  signal?: AbortSignal;
}

export interface ChatResult {
  text: string;
  provider: ProviderName;
  model: string;
  /** Set when the provider stopped before the reply was finished (token limit, filter): why. */
  cutOff?: string;
}

export interface Provider {
  readonly name: ProviderName;
  /** Human name for messages ("Anthropic"). */
  readonly label: string;
  readonly model: string;
  complete(request: ChatRequest): Promise<ChatResult>;
}

/** The user cancelled (Ctrl-C): not a failure, never queued, never retried. */
export class CancelledError extends IsaacError {
  override readonly code = 'CANCELLED';
}
