import { NetworkError, ProviderError } from '../../../../schemas/errors.ts';
import {
  earlyEnd,
  field,
  type HttpSettings,
  parseProviderJson,
  readAll,
  sseEvents,
  streamRequest,
} from './http.ts';
import type { ChatRequest, ChatResult, Provider } from './types.ts';

export interface AnthropicOptions {
  baseUrl: string;
  key: string;
  model: string;
  http: HttpSettings;
}

/** Anthropic Messages API (POST /v1/messages) with SSE streaming. */
export function anthropicProvider(options: AnthropicOptions): Provider {
  const { http, model } = options;
  return {
    name: 'anthropic',
    label: http.label,
    model,
    async complete(request: ChatRequest): Promise<ChatResult> {
      const text = await streamRequest(
        http,
        {
          url: `${options.baseUrl}/v1/messages`,
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            'x-api-key': options.key,
            'anthropic-version': '2023-06-01',
          },
          body: {
            model,
            max_tokens: request.maxTokens ?? 1024,
            system: request.system,
            messages: request.messages,
            stream: true,
          },
          signal: request.signal,
        },
        async (body) => {
          if (!body.contentType.includes('text/event-stream')) {
            return whole(parseProviderJson(await readAll(body.chunks), http.label), http.label);
          }
          let text = '';
          for await (const event of sseEvents(body.chunks)) {
            const data = parseProviderJson(event.data, http.label);
            switch (data.type) {
              case 'content_block_delta': {
                const piece = field(data, 'delta', 'text');
                if (field(data, 'delta', 'type') === 'text_delta' && typeof piece === 'string') {
                  text += piece;
                  request.onToken?.(piece);
                }
                break;
              }
              case 'message_stop':
                return text;
              case 'error':
                throw streamError(data, http.label);
            }
          }
          throw earlyEnd(http.label);
        },
      );
      return { text, provider: 'anthropic', model };
    },
  };
}

function whole(data: Record<string, unknown>, label: string): string {
  if (data.type === 'error') throw streamError(data, label);
  const content = data.content;
  if (!Array.isArray(content)) throw new ProviderError(`${label} sent a reply without content`);
  return content
    .map((block) => (field(block, 'type') === 'text' ? String(field(block, 'text') ?? '') : ''))
    .join('');
}

function streamError(data: Record<string, unknown>, label: string): Error {
  const type = String(field(data, 'error', 'type') ?? 'error');
  const message = String(field(data, 'error', 'message') ?? type).slice(0, 200);
  if (type === 'overloaded_error' || type === 'api_error' || type === 'rate_limit_error') {
    return new NetworkError(`${label} is unavailable: ${message}`, {
      hint: 'try again later, or set ai.fallback',
    });
  }
  return new ProviderError(`${label} reported an error: ${message}`, { hint: 'nothing was run' });
}
