import { ProviderError } from '../../../../schemas/errors.ts';
import {
  earlyEnd,
  field,
  type HttpSettings,
  midStreamError,
  parseProviderJson,
  readAll,
  streamRequest,
} from './http.ts';
import { sseEvents } from './streams.ts';
import type { ChatRequest, ChatResult, Provider, ProviderName } from './types.ts';

export interface OpenAiOptions {
  name: ProviderName;
  /** Up to and including /v1: https://api.openai.com/v1, https://api.x.ai/v1, ... */
  baseUrl: string;
  key: string | undefined;
  /** The model, or (OpenAI-compatible servers only) a function that asks the server for one. */
  model: string | ((signal: AbortSignal | undefined) => Promise<string>);
  http: HttpSettings;
}

/** Reasoning models spend part of the budget before the first visible token. */
const DEFAULT_MAX_TOKENS = 4096;

/** Server-side error types that mean "try later". */
const TRANSIENT = /server_error|overloaded|rate_limit|timeout|unavailable/i;

/** OpenAI chat completions with SSE streaming; also xAI and any OpenAI-compatible server. */
export function openAiProvider(options: OpenAiOptions): Provider {
  const { http, name } = options;
  return {
    name,
    label: http.label,
    model: typeof options.model === 'string' ? options.model : '(asked from the server)',
    async complete(request: ChatRequest): Promise<ChatResult> {
      const model = typeof options.model === 'string' ? options.model : await options.model(request.signal);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'text/event-stream',
      };
      if (options.key) headers.authorization = `Bearer ${options.key}`;
      const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS;
      // gpt-5 and o-series refuse max_tokens; other servers mostly know only max_tokens
      const limit =
        name === 'openai-compatible' ? { max_tokens: maxTokens } : { max_completion_tokens: maxTokens };
      const reply = await streamRequest(
        http,
        {
          url: `${options.baseUrl}/chat/completions`,
          headers,
          body: {
            model,
            ...limit,
            messages: [{ role: 'system', content: request.system }, ...request.messages],
            stream: true,
            stream_options: { include_usage: true },
          },
          signal: request.signal,
        },
        async (body) => {
          if (!body.contentType.includes('text/event-stream')) {
            // some compatible servers ignore stream:true and answer in one JSON body
            const data = parseProviderJson(await readAll(body.chunks), http.label);
            const content = field(data, 'choices', 0, 'message', 'content');
            if (typeof content !== 'string') throw streamError(http.label, data);
            return { text: content, cutOff: cutOffReason(field(data, 'choices', 0, 'finish_reason')) };
          }
          let text = '';
          let finish: unknown;
          for await (const event of sseEvents(body.chunks)) {
            if (event.data.trim() === '[DONE]') return { text, cutOff: cutOffReason(finish) };
            const data = parseProviderJson(event.data, http.label);
            if (data.error !== undefined) throw streamError(http.label, data);
            // the usage-only chunk (include_usage) has no choices
            const piece = field(data, 'choices', 0, 'delta', 'content');
            if (typeof piece === 'string' && piece !== '') {
              text += piece;
              request.onToken?.(piece);
            }
            finish = field(data, 'choices', 0, 'finish_reason') ?? finish;
          }
          throw earlyEnd(http.label);
        },
      );
      return { ...reply, provider: name, model };
    },
  };
}

function cutOffReason(finish: unknown): string | undefined {
  if (finish === 'length') return 'the model stopped at the token limit (finish_reason length)';
  if (finish === 'content_filter') return 'the provider filtered the reply (finish_reason content_filter)';
  return undefined;
}

function streamError(label: string, data: Record<string, unknown>): Error {
  const message = field(data, 'error', 'message');
  if (typeof message !== 'string') return new ProviderError(`${label} sent a reply without content`);
  const kind = `${String(field(data, 'error', 'type') ?? '')} ${String(field(data, 'error', 'code') ?? '')}`;
  return midStreamError(label, message, TRANSIENT.test(kind));
}
