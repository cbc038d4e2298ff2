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
import type { ChatRequest, ChatResult, Provider } from './types.ts';

export interface AnthropicOptions {
  baseUrl: string;
  key: string;
  model: string;
  http: HttpSettings;
}

/** Error types that mean "try later", not "this request is wrong". */
const TRANSIENT = new Set(['overloaded_error', 'api_error', 'rate_limit_error']);

/** Anthropic Messages API (POST /v1/messages) with SSE streaming. */
export function anthropicProvider(options: AnthropicOptions): Provider {
  const { http, model } = options;
  return {
    name: 'anthropic',
    label: http.label,
    model,
    async complete(request: ChatRequest): Promise<ChatResult> {
      const reply = await streamRequest(
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
            max_tokens: request.maxTokens ?? 2048,
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
          let stopReason: unknown;
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
              case 'message_delta':
                stopReason = field(data, 'delta', 'stop_reason') ?? stopReason;
                break;
              case 'message_stop':
                return { text, cutOff: cutOffReason(stopReason) };
              case 'error':
                throw streamError(data, http.label);
            }
          }
          throw earlyEnd(http.label);
        },
      );
      return { ...reply, provider: 'anthropic', model };
    },
  };
}

/** `max_tokens` (and a refusal) end a reply before it is whole. */
function cutOffReason(stopReason: unknown): string | undefined {
  if (stopReason === 'max_tokens') return 'Anthropic stopped at the token limit (stop_reason max_tokens)';
  if (stopReason === 'refusal') return 'Anthropic stopped the reply (stop_reason refusal)';
  return undefined;
}

function whole(data: Record<string, unknown>, label: string): { text: string; cutOff?: string } {
  if (data.type === 'error') throw streamError(data, label);
  const content = data.content;
  if (!Array.isArray(content)) throw new ProviderError(`${label} sent a reply without content`);
  const text = content
    .map((block) => (field(block, 'type') === 'text' ? String(field(block, 'text') ?? '') : ''))
    .join('');
  return { text, cutOff: cutOffReason(data.stop_reason) };
}

function streamError(data: Record<string, unknown>, label: string): Error {
  const type = String(field(data, 'error', 'type') ?? 'error');
  const message = String(field(data, 'error', 'message') ?? type);
  return midStreamError(label, message, TRANSIENT.has(type));
}
