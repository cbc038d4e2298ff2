import { NetworkError, ProviderError } from '../../../../schemas/errors.ts';
import { maskSecret } from '../../../core/store/config-keys.ts';
import { redactSecrets } from '../../../core/store/redact.ts';
import { CancelledError, type FetchFn } from './types.ts';

/** How one provider's HTTP calls behave: injected fetch, timeouts, retry policy, wording of errors. */
export interface HttpSettings {
  fetch: FetchFn;
  /** Longest silence allowed: until the response headers, and between two chunks of the stream. */
  timeoutMs: number;
  /** Extra attempts after a 429 or 5xx. */
  retries: number;
  retryBaseMs: number;
  /** A Retry-After longer than this is not waited for: the provider counts as unavailable. */
  maxRetryWaitMs: number;
  /** "Anthropic" */
  label: string;
  /** Next step shown when the key is rejected ("set ANTHROPIC_API_KEY"). */
  keyHint: string;
  /** This provider's key: masked out of anything the provider says back. */
  key?: string;
}

export interface HttpCall {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal?: AbortSignal;
}

/** The decoded body, chunk by chunk, plus what the server said it is. */
export interface BodyStream {
  contentType: string;
  chunks: AsyncIterable<string>;
}

const TIMEOUT = Symbol('timeout');

/**
 * One request with the whole policy around it: idle timeout, Ctrl-C, retries with backoff on
 * 429/5xx (honouring Retry-After), and every failure mapped to one clear error. `consume` reads
 * the streamed body; the exchange stays guarded until it returns.
 */
export async function streamRequest<T>(
  http: HttpSettings,
  call: HttpCall,
  consume: (body: BodyStream) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    throwIfCancelled(call.signal);
    const guard = new Guard(http.timeoutMs, call.signal, http.label);
    try {
      let response: Response;
      try {
        response = await http.fetch(call.url, {
          method: 'POST',
          headers: call.headers,
          body: JSON.stringify(call.body),
          signal: guard.signal,
        });
      } catch (err) {
        throw guard.mapError(err, () => unreachable(http, call.url, err));
      }
      if (!response.ok) {
        const wait = retryWait(http, response, attempt);
        const detail = await errorDetail(response, guard, http.key);
        if (wait !== undefined) {
          guard.done();
          await sleep(wait, call.signal);
          continue;
        }
        throw statusError(http, response.status, detail);
      }
      const chunks = decode(response, guard, http);
      const result = await consume({ contentType: response.headers.get('content-type') ?? '', chunks });
      return result;
    } finally {
      guard.done();
    }
  }
}

/** One GET answered with JSON (a model list), under the same timeout, Ctrl-C and error wording. */
export async function getJson(
  http: HttpSettings,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<Record<string, unknown>> {
  throwIfCancelled(signal);
  const guard = new Guard(http.timeoutMs, signal, http.label);
  try {
    let response: Response;
    try {
      response = await http.fetch(url, { method: 'GET', headers, signal: guard.signal });
    } catch (err) {
      throw guard.mapError(err, () => unreachable(http, url, err));
    }
    if (!response.ok) throw statusError(http, response.status, await errorDetail(response, guard, http.key));
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw guard.mapError(err, () => unreachable(http, url, err));
    }
    return parseProviderJson(text, http.label);
  } finally {
    guard.done();
  }
}

/** An AbortController that fires on the user's signal or after `timeoutMs` of silence. */
class Guard {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onUserAbort = () => this.controller.abort();

  constructor(
    private readonly timeoutMs: number,
    private readonly user: AbortSignal | undefined,
    private readonly label: string,
  ) {
    user?.addEventListener('abort', this.onUserAbort, { once: true });
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get timedOut(): boolean {
    return this.controller.signal.reason === TIMEOUT;
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(TIMEOUT), this.timeoutMs);
  }

  done(): void {
    clearTimeout(this.timer);
    this.user?.removeEventListener('abort', this.onUserAbort);
  }

  /** Cancel and timeout first; anything else is the caller's own error. */
  mapError(err: unknown, otherwise: () => Error): Error {
    if (this.user?.aborted) return new CancelledError('cancelled');
    if (this.timedOut) {
      return new NetworkError(`no answer from ${this.label} within ${Math.round(this.timeoutMs / 1000)} s`, {
        hint: 'check the provider, or raise ai.timeout',
        cause: err,
      });
    }
    if (err instanceof ProviderError || err instanceof NetworkError) return err;
    return otherwise();
  }
}

async function* decode(response: Response, guard: Guard, http: HttpSettings): AsyncGenerator<string> {
  if (!response.body) return;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let finished = false;
  try {
    for (;;) {
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await reader.read();
      } catch (err) {
        const mapped = guard.mapError(
          err,
          () =>
            new NetworkError(`the answer stream from ${http.label} broke off`, {
              hint: 'the question is kept and answered later; nothing was run',
              cause: err,
            }),
        );
        if (mapped instanceof NetworkError && mapped.message.startsWith('no answer')) {
          throw new NetworkError(
            `${http.label} stopped streaming: ${mapped.message.replace(` from ${http.label}`, '')}`,
            {
              hint: mapped.hint,
            },
          );
        }
        throw mapped;
      }
      if (step.done) {
        finished = true;
        break;
      }
      guard.touch();
      yield decoder.decode(step.value, { stream: true });
    }
    const tail = decoder.decode();
    if (tail) yield tail;
  } finally {
    // the reader stopped early (end event seen, or an error): let the connection go
    if (!finished) void reader.cancel().catch(() => undefined);
    else reader.releaseLock();
  }
}

function unreachable(http: HttpSettings, url: string, err: unknown): NetworkError {
  return new NetworkError(`cannot reach ${http.label} at ${new URL(url).origin}`, {
    hint: 'check the network or the provider’s base_url; questions are queued until it answers',
    cause: err,
  });
}

function retryWait(http: HttpSettings, response: Response, attempt: number): number | undefined {
  if (response.status !== 429 && response.status < 500) return undefined;
  if (attempt >= http.retries) return undefined;
  const header = response.headers.get('retry-after');
  const headerMs = Number(response.headers.get('retry-after-ms') ?? Number.NaN);
  let wait = http.retryBaseMs * 2 ** attempt * (1 + Math.random() * 0.25);
  if (Number.isFinite(headerMs) && headerMs >= 0) {
    wait = headerMs; // OpenAI's millisecond form is the more precise one
  } else if (header !== null) {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) wait = Math.max(0, seconds * 1000);
    else if (!Number.isNaN(Date.parse(header))) wait = Math.max(0, Date.parse(header) - Date.now());
  }
  return wait <= http.maxRetryWaitMs ? wait : undefined;
}

function statusError(http: HttpSettings, status: number, detail: string): Error {
  const said = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    return new ProviderError(`key rejected by ${http.label}`, { hint: http.keyHint });
  }
  if (status === 429) {
    return new NetworkError(`${http.label} is rate limiting (HTTP 429)${said}`, {
      hint: 'wait a moment; questions are queued until it answers',
    });
  }
  if (status >= 500) {
    return new NetworkError(`${http.label} is unavailable (HTTP ${status})${said}`, {
      hint: 'try again later, or set ai.fallback',
    });
  }
  return new ProviderError(`${http.label} refused the request (HTTP ${status})${said}`, {
    hint: 'check ai.model and the provider’s base_url',
  });
}

/** The provider's own error message, bounded and redacted; never the whole body. */
async function errorDetail(response: Response, guard: Guard, key: string | undefined): Promise<string> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    return '';
  } finally {
    guard.touch();
  }
  let message = text;
  try {
    const parsed: unknown = JSON.parse(text);
    const found = findMessage(parsed);
    if (found) message = found;
  } catch {
    // not JSON: keep the text
  }
  if (key) message = message.split(key).join(maskSecret(key));
  return redactSecrets(message.replace(/\s+/g, ' ').trim()).slice(0, 200);
}

function findMessage(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.message === 'string') return record.message;
  return findMessage(record.error);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('cancelled'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError('cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('cancelled');
}

/** Parses one JSON payload from a provider; anything else is a clear ProviderError. */
export function parseProviderJson(text: string, label: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ProviderError(`${label} sent malformed JSON`, {
      hint: `check that the base_url points at a real ${label} API; nothing was run`,
      cause: err,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ProviderError(`${label} sent an unexpected reply`, {
      hint: `check that the base_url points at a real ${label} API; nothing was run`,
    });
  }
  return parsed as Record<string, unknown>;
}

export async function readAll(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

export function field(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/**
 * The one policy for a reply that stops part-way (no end event, a broken connection, an
 * overload or server error reported inside the stream): the provider is treated as unavailable,
 * so the question is queued and nothing of the partial reply is proposed.
 */
export function earlyEnd(label: string): NetworkError {
  return new NetworkError(`${label} ended the answer stream early`, {
    hint: 'the question is kept and answered later; nothing was run',
  });
}

/** An error reported inside a started stream: transient kinds queue the question, others are final. */
export function midStreamError(label: string, message: string, transient: boolean): Error {
  const said = message.replace(/\s+/g, ' ').slice(0, 200);
  if (transient) {
    return new NetworkError(`${label} is unavailable: ${said}`, {
      hint: 'the question is kept and answered later; nothing was run',
    });
  }
  return new ProviderError(`${label} reported an error: ${said}`, { hint: 'nothing was run' });
}
