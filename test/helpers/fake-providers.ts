/**
 * Local HTTP servers speaking the real wire formats of AI providers — the one fake the project
 * allows. Each reply is scriptable per request (status, delays, malformed or broken streams) and
 * every request is captured, headers and body, for assertions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type FakeKind = 'openai' | 'anthropic' | 'ollama';

export interface Reply {
  /** HTTP status; anything but 200 sends the provider's error body. */
  status?: number;
  headers?: Record<string, string>;
  /** The assistant's text, streamed in `tokens` pieces (default: split into words). */
  text?: string;
  tokens?: string[];
  /** Wait before the response headers. */
  delayMs?: number;
  /** Wait between streamed pieces. */
  tokenDelayMs?: number;
  /** Sends a data/NDJSON line that is not JSON after the first piece. */
  malformed?: boolean;
  /** Destroys the connection after this many pieces, without the end-of-stream event. */
  breakAfter?: number;
  /** Ends the response cleanly but without the end-of-stream event. */
  truncate?: boolean;
  /** The message inside the error body of a non-200 reply. */
  errorMessage?: string;
  /** Never answers. */
  hang?: boolean;
  /** An error inside the stream after the first piece: Anthropic `event: error`, OpenAI `data: {"error"}`, Ollama `{"error"}`. */
  streamError?: { type: string; message: string };
  /** Ends the reply as cut off: stop_reason max_tokens / finish_reason length / done_reason length. */
  cutOff?: boolean;
}

export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: unknown;
}

export interface FakeProvider {
  kind: FakeKind;
  /** What to put in ai.<provider>.base_url. */
  baseUrl: string;
  requests: CapturedRequest[];
  /** Replies for the next requests, in order; after they run out `fallback` answers. */
  script(...replies: Reply[]): void;
  fallback: Reply;
  /** What GET /v1/models lists (OpenAI-compatible servers), first first. */
  models: string[];
  close(): Promise<void>;
}

/** `t` is a test context, or anything that collects cleanups the same way (benchmarks). */
export async function startFakeProvider(
  t: { after(fn: () => unknown): void },
  kind: FakeKind,
  fallback: Reply = { text: 'ok' },
): Promise<FakeProvider> {
  const queue: Reply[] = [];
  const requests: CapturedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, body });
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: fake.models.map((id) => ({ id, object: 'model' })) }));
        return;
      }
      const reply = queue.shift() ?? fake.fallback;
      void respond(kind, reply, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  let closed = false;
  const fake: FakeProvider = {
    kind,
    baseUrl: kind === 'openai' ? `${origin}/v1` : origin,
    requests,
    script: (...replies) => queue.push(...replies),
    fallback,
    models: ['served-model-1', 'served-model-2'],
    close: async () => {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  t.after(() => fake.close());
  return fake;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function respond(kind: FakeKind, reply: Reply, res: ServerResponse): Promise<void> {
  if (reply.hang) return;
  if (reply.delayMs) await sleep(reply.delayMs);
  if (res.destroyed) return;
  const status = reply.status ?? 200;
  if (status !== 200) {
    res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(errorBody(kind, status, reply.errorMessage)));
    return;
  }
  const text = reply.text ?? 'ok';
  const tokens = reply.tokens ?? text.match(/\S+\s*|\s+/g) ?? [text];
  const frame = FRAMES[kind];
  res.writeHead(200, { 'content-type': frame.contentType, ...reply.headers });
  res.flushHeaders();
  for (const part of frame.start()) res.write(part);
  for (const [i, token] of tokens.entries()) {
    if (reply.breakAfter !== undefined && i >= reply.breakAfter) {
      res.destroy();
      return;
    }
    if (reply.streamError && i === 1) {
      res.end(frame.error(reply.streamError));
      return;
    }
    res.write(frame.token(token));
    if (reply.malformed && i === 0) res.write(frame.malformed);
    if (reply.tokenDelayMs) await sleep(reply.tokenDelayMs);
    if (res.destroyed) return;
  }
  if (reply.truncate) {
    res.end();
    return;
  }
  res.end(frame.end(reply.cutOff === true));
}

function sse(event: string | undefined, data: unknown): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

interface Frame {
  contentType: string;
  start(): string[];
  token(text: string): string;
  malformed: string;
  error(error: { type: string; message: string }): string;
  end(cutOff: boolean): string;
}

const FRAMES: Record<FakeKind, Frame> = {
  anthropic: {
    contentType: 'text/event-stream; charset=utf-8',
    start: () => [
      sse('message_start', {
        type: 'message_start',
        message: { id: 'msg_fake', type: 'message', role: 'assistant', content: [], model: 'claude-fake' },
      }),
      sse('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      }),
      sse('ping', { type: 'ping' }),
    ],
    token: (text) =>
      sse('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text },
      }),
    malformed: 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text": \n\n',
    error: (error) => sse('error', { type: 'error', error }),
    end: (cutOff) =>
      sse('content_block_stop', { type: 'content_block_stop', index: 0 }) +
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: cutOff ? 'max_tokens' : 'end_turn', stop_sequence: null },
        usage: { output_tokens: 9 },
      }) +
      sse('message_stop', { type: 'message_stop' }),
  },
  openai: {
    contentType: 'text/event-stream',
    start: () => [
      sse(undefined, {
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      }),
    ],
    token: (text) =>
      sse(undefined, {
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
      }),
    malformed: 'data: {"id":"chatcmpl-fake","choices":[{"delta":{"content":\n\n',
    error: (error) => sse(undefined, { error: { message: error.message, type: error.type, code: null } }),
    // with stream_options.include_usage the last chunk before [DONE] carries usage and no choices
    end: (cutOff) =>
      sse(undefined, {
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: {}, finish_reason: cutOff ? 'length' : 'stop' }],
      }) +
      sse(undefined, {
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        choices: [],
        usage: { prompt_tokens: 50, completion_tokens: 9, total_tokens: 59 },
      }) +
      'data: [DONE]\n\n',
  },
  ollama: {
    contentType: 'application/x-ndjson',
    start: () => [],
    token: (text) =>
      `${JSON.stringify({ model: 'llama-fake', created_at: new Date().toISOString(), message: { role: 'assistant', content: text }, done: false })}\n`,
    malformed: '{"model":"llama-fake","message":{"content":\n',
    error: (error) => `${JSON.stringify({ error: error.message })}\n`,
    end: (cutOff) =>
      `${JSON.stringify({ model: 'llama-fake', created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, done: true, done_reason: cutOff ? 'length' : 'stop' })}\n`,
  },
};

function errorBody(kind: FakeKind, status: number, given: string | undefined): unknown {
  const message =
    given ??
    (status === 401 ? 'invalid x-api-key' : status === 429 ? 'rate limited' : `server error ${status}`);
  if (kind === 'anthropic') {
    const type = status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : 'api_error';
    return { type: 'error', error: { type, message } };
  }
  if (kind === 'ollama') return { error: message };
  return { error: { message, type: status === 401 ? 'invalid_request_error' : 'server_error', code: null } };
}
