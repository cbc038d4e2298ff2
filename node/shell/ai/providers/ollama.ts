import { NetworkError, ProviderError } from '../../../../schemas/errors.ts';
import { earlyEnd, field, type HttpSettings, parseProviderJson, streamRequest } from './http.ts';
import { ndjsonLines } from './streams.ts';
import type { ChatRequest, ChatResult, Provider } from './types.ts';

export interface OllamaOptions {
  baseUrl: string;
  model: string;
  http: HttpSettings;
}

const REPLY_TOKENS = 2048;
const MIN_CONTEXT = 4096;
const MAX_CONTEXT = 131_072;

/**
 * Ollama cuts a prompt longer than its context window from the start — where Isaac's
 * instructions are — without a word. So the window is sized to the prompt: about three
 * characters a token (generous for code and paths), plus room for the reply, in 1024 steps.
 */
export function contextWindowFor(promptChars: number, replyTokens = REPLY_TOKENS): number {
  const needed = Math.ceil(promptChars / 3) + replyTokens;
  return Math.min(MAX_CONTEXT, Math.max(MIN_CONTEXT, Math.ceil(needed / 1024) * 1024));
}

/** Ollama's /api/chat with NDJSON streaming: the offline-first provider, no key. */
export function ollamaProvider(options: OllamaOptions): Provider {
  const { http, model } = options;
  return {
    name: 'ollama',
    label: http.label,
    model,
    async complete(request: ChatRequest): Promise<ChatResult> {
      const promptChars =
        request.system.length + request.messages.reduce((sum, m) => sum + m.content.length, 0);
      const replyTokens = request.maxTokens ?? REPLY_TOKENS;
      let reply: { text: string; cutOff?: string };
      try {
        reply = await streamRequest(
          http,
          {
            url: `${options.baseUrl}/api/chat`,
            headers: { 'content-type': 'application/json' },
            body: {
              model,
              messages: [{ role: 'system', content: request.system }, ...request.messages],
              stream: true,
              options: { num_ctx: contextWindowFor(promptChars, replyTokens), num_predict: replyTokens },
            },
            signal: request.signal,
          },
          async (body) => {
            let text = '';
            for await (const line of ndjsonLines(body.chunks)) {
              const data = parseProviderJson(line, http.label);
              if (typeof data.error === 'string') throw runtimeError(http.label, data.error);
              const piece = field(data, 'message', 'content');
              if (typeof piece === 'string' && piece !== '') {
                text += piece;
                request.onToken?.(piece);
              }
              if (data.done === true) {
                const cutOff =
                  data.done_reason === 'length'
                    ? 'Ollama stopped at the token limit (done_reason length)'
                    : undefined;
                return { text, cutOff };
              }
            }
            throw earlyEnd(http.label);
          },
        );
      } catch (err) {
        throw missingModel(err, model) ?? err;
      }
      return { ...reply, provider: 'ollama', model };
    },
  };
}

/** An error line inside the stream: the model runner failed (out of memory, crashed), not the request. */
function runtimeError(label: string, message: string): NetworkError {
  return new NetworkError(`${label} failed while answering: ${message.replace(/\s+/g, ' ').slice(0, 200)}`, {
    hint: 'see the Ollama server log (out of memory? try a smaller model: /set config ai.ollama.model NAME); the question is kept and answered later',
  });
}

/** HTTP 404 "model 'x' not found": the one case where pulling the model is the fix. */
function missingModel(err: unknown, model: string): ProviderError | undefined {
  if (!(err instanceof ProviderError) || !/HTTP 404/.test(err.message) || !/not found/i.test(err.message))
    return undefined;
  return new ProviderError(`Ollama has no model ${model}`, {
    hint: `run \`ollama pull ${model}\` on the Ollama machine, or /set config ai.ollama.model NAME`,
  });
}
