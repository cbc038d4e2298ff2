import { ProviderError } from '../../../../schemas/errors.ts';
import {
  earlyEnd,
  field,
  type HttpSettings,
  parseProviderJson,
  readAll,
  sseEvents,
  streamRequest,
} from './http.ts';
import type { ChatRequest, ChatResult, Provider, ProviderName } from './types.ts';

export interface OpenAiOptions {
  name: ProviderName;
  /** Up to and including /v1: https://api.openai.com/v1, https://api.x.ai/v1, ... */
  baseUrl: string;
  key: string | undefined;
  model: string;
  http: HttpSettings;
}

/** OpenAI chat completions with SSE streaming; also xAI and any OpenAI-compatible server. */
export function openAiProvider(options: OpenAiOptions): Provider {
  const { http, model, name } = options;
  return {
    name,
    label: http.label,
    model,
    async complete(request: ChatRequest): Promise<ChatResult> {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'text/event-stream',
      };
      if (options.key) headers.authorization = `Bearer ${options.key}`;
      const text = await streamRequest(
        http,
        {
          url: `${options.baseUrl}/chat/completions`,
          headers,
          body: {
            model,
            max_tokens: request.maxTokens ?? 1024,
            messages: [{ role: 'system', content: request.system }, ...request.messages],
            stream: true,
          },
          signal: request.signal,
        },
        async (body) => {
          if (!body.contentType.includes('text/event-stream')) {
            // some compatible servers ignore stream:true and answer in one JSON body
            const data = parseProviderJson(await readAll(body.chunks), http.label);
            const content = field(data, 'choices', 0, 'message', 'content');
            if (typeof content !== 'string') throw noContent(http.label, data);
            return content;
          }
          let text = '';
          for await (const event of sseEvents(body.chunks)) {
            if (event.data.trim() === '[DONE]') return text;
            const data = parseProviderJson(event.data, http.label);
            if (data.error !== undefined) throw noContent(http.label, data);
            const piece = field(data, 'choices', 0, 'delta', 'content');
            if (typeof piece === 'string' && piece !== '') {
              text += piece;
              request.onToken?.(piece);
            }
          }
          throw earlyEnd(http.label);
        },
      );
      return { text, provider: name, model };
    },
  };
}

function noContent(label: string, data: Record<string, unknown>): ProviderError {
  const message = field(data, 'error', 'message');
  return new ProviderError(
    typeof message === 'string'
      ? `${label} reported an error: ${message.slice(0, 200)}`
      : `${label} sent a reply without content`,
    { hint: 'nothing was run' },
  );
}
