import { ProviderError } from '../../../../schemas/errors.ts';
import { earlyEnd, field, type HttpSettings, ndjsonLines, parseProviderJson, streamRequest } from './http.ts';
import type { ChatRequest, ChatResult, Provider } from './types.ts';

export interface OllamaOptions {
  baseUrl: string;
  model: string;
  http: HttpSettings;
}

/** Ollama's /api/chat with NDJSON streaming: the offline-first provider, no key. */
export function ollamaProvider(options: OllamaOptions): Provider {
  const { http, model } = options;
  return {
    name: 'ollama',
    label: http.label,
    model,
    async complete(request: ChatRequest): Promise<ChatResult> {
      const text = await streamRequest(
        http,
        {
          url: `${options.baseUrl}/api/chat`,
          headers: { 'content-type': 'application/json' },
          body: {
            model,
            messages: [{ role: 'system', content: request.system }, ...request.messages],
            stream: true,
          },
          signal: request.signal,
        },
        async (body) => {
          let text = '';
          for await (const line of ndjsonLines(body.chunks)) {
            const data = parseProviderJson(line, http.label);
            if (typeof data.error === 'string') {
              throw new ProviderError(`${http.label} reported an error: ${data.error.slice(0, 200)}`, {
                hint: 'check ai.model (ollama pull <model>)',
              });
            }
            const piece = field(data, 'message', 'content');
            if (typeof piece === 'string' && piece !== '') {
              text += piece;
              request.onToken?.(piece);
            }
            if (data.done === true) return text;
          }
          throw earlyEnd(http.label);
        },
      );
      return { text, provider: 'ollama', model };
    },
  };
}
