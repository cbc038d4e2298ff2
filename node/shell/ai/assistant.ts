import { ConfigError, errorLine, NetworkError, ProviderError } from '../../../schemas/errors.ts';
import type { CommandRecord } from '../../core/store/history.ts';
import { redactOutput, redactSecrets } from '../../core/store/redact.ts';
import type { Store } from '../../core/store/store.ts';
import { buildContext } from './context.ts';
import { looksLikeUsageError, type Proposal, parseProposal, visible } from './parse.ts';
import {
  EXPLAIN_INSTRUCTIONS,
  FIX_INSTRUCTIONS,
  REVIEW_INSTRUCTIONS,
  systemPrompt,
  translateInstructions,
} from './prompts.ts';
import { type ConfigSource, resolveProviders } from './providers/index.ts';
import { CancelledError, type ChatResult, type FetchFn, type Provider } from './providers/types.ts';
import { type AiHistoryEntry, AiRepo, type PendingKind } from './store.ts';

export interface AssistantOptions {
  store: Store;
  fetch?: FetchFn;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** The shell session's current directory (default: process.cwd()). */
  cwd?: () => string;
  /** The shell commands run in (default: shell.program). */
  shell?: () => string;
  /** Retry policy knobs, for tests; defaults: 2 retries, 500 ms base, waits up to min(ai.timeout, 10 s). */
  retries?: number;
  retryBaseMs?: number;
  maxRetryWaitMs?: number;
}

export interface AiCallOptions {
  onToken?: (token: string) => void;
  signal?: AbortSignal;
}

/** `skipped`: why earlier providers in the fallback order did not answer (only when some did not). */
export type AskResult =
  | (Proposal & { provider: string; skipped?: string[]; notices?: string[] })
  | { kind: 'queued'; id: number; reason: string; notices?: string[] };

export interface DrainResult {
  delivered: number;
  remaining: number;
}

export interface Assistant {
  /** Natural language to a command (or an answer); queued when no provider is reachable. */
  ask(request: string, options?: AiCallOptions): Promise<AskResult>;
  /** The same as ask. */
  translate(request: string, options?: AiCallOptions): Promise<AskResult>;
  /** Tier-3 explanation; never throws: without a provider it is the local reason + "(AI unavailable)". */
  reviewRisk(line: string, localReason: string, options?: AiCallOptions): Promise<string>;
  /** A corrected command for "command not found"/usage errors, or undefined. Never throws (except cancel). */
  suggestFix(
    line: string,
    exitCode: number,
    output: string,
    options?: AiCallOptions,
  ): Promise<string | undefined>;
  /** Explains a recorded command and its bounded output; queued when offline. */
  explain(record: CommandRecord, options?: AiCallOptions): Promise<AskResult>;
  /** The context block exactly as it is sent (`/show context`). */
  buildContext(): string;
  /** The whole system prompt of `isaac <words>`, as sent (`/show context --full`). */
  systemPrompt(): string;
  /** Answers queued questions if a provider is reachable; each answer becomes one `messages` row. */
  drainPending(options?: { signal?: AbortSignal }): Promise<DrainResult>;
  pendingCount(): number;
  /** This machine’s AI history, newest first. */
  history(limit: number): AiHistoryEntry[];
  /** Throws the ConfigError that says how to configure a provider, if none is usable. */
  providers(): Provider[];
}

const OUTPUT_FOR_AI = 4000;
const MAX_ATTEMPTS = 5;

export function createAssistant(options: AssistantOptions): Assistant {
  const { store } = options;
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const repo = new AiRepo(store.db);
  const config: ConfigSource = {
    get: (key) => store.config.get(key),
    string: (key) => store.config.string(key),
    number: (key) => store.config.number(key),
    list: (key) => store.config.list(key),
    isSet: (key) => repo.isConfigSet(key),
  };
  const shell = () => options.shell?.() ?? store.config.string('shell.program');
  const cwd = () => options.cwd?.() ?? process.cwd();
  let draining: Promise<DrainResult> | undefined;
  // marks where the context block starts and ends; unknown to anything recorded in it
  // node:crypto on first use: the command list loads this module, and crypto costs ~3 ms
  const nonce = process.getBuiltinModule('node:crypto').randomBytes(8).toString('hex');
  let notices: string[] = [];

  const providers = () =>
    resolveProviders({
      config,
      env,
      fetch: fetchFn,
      retries: options.retries,
      retryBaseMs: options.retryBaseMs,
      maxRetryWaitMs: options.maxRetryWaitMs,
      onNotice: (notice) => notices.push(notice),
    });

  /** Notices raised since the last call (a model picked for the user), said once. */
  const takeNotices = (): { notices?: string[] } => {
    const taken = notices;
    notices = [];
    return taken.length > 0 ? { notices: taken } : {};
  };

  const context = () =>
    buildContext({ repo, config, machineName: store.machineName(), cwd: cwd(), shell: shell() });

  /** Tries each provider in order until one answers; a half-streamed answer is never retried elsewhere. */
  async function complete(
    instructions: string,
    question: string,
    call: AiCallOptions,
    asked: string = context(),
  ): Promise<ChatResult & { skipped: string[] }> {
    const list = providers();
    const system = redactSecrets(systemPrompt(instructions, asked, nonce));
    const user = redactSecrets(question);
    const failures: Error[] = [];
    for (const provider of list) {
      let streamed = false;
      try {
        const result = await provider.complete({
          system,
          messages: [{ role: 'user', content: user }],
          signal: call.signal,
          onToken: (token) => {
            streamed = true;
            call.onToken?.(token);
          },
        });
        return { ...result, skipped: failures.map(errorLine) };
      } catch (err) {
        if (err instanceof CancelledError || streamed || !(err instanceof Error)) throw err;
        failures.push(err);
      }
    }
    const actionable = failures.find((f) => !(f instanceof NetworkError));
    if (actionable) throw actionable;
    throw new NetworkError(`no AI provider reachable (${failures.map(errorLine).join('; ')})`);
  }

  function remember(
    kind: string,
    question: string,
    result: ChatResult | undefined,
    extra: Partial<AiHistoryEntry>,
  ) {
    store.aiHistory.record({
      ts: now(),
      kind,
      provider: result?.provider ?? null,
      model: result?.model ?? null,
      question,
      answer: extra.answer ?? null,
      command: extra.command ?? null,
      error: extra.error ?? null,
    });
  }

  /** Runs one feature; unreachable providers queue it, every outcome lands in ai_history. */
  async function queued(
    kind: PendingKind,
    instructions: string,
    question: string,
    call: AiCallOptions,
  ): Promise<AskResult> {
    let result: ChatResult & { skipped: string[] };
    const asked = context();
    try {
      result = await complete(instructions, question, call, asked);
    } catch (err) {
      remember(kind, question, undefined, { error: errorLine(err) });
      if (err instanceof NetworkError) {
        const id = repo.enqueue(kind, question, asked, now());
        return { kind: 'queued', id, reason: errorLine(err), ...takeNotices() };
      }
      throw err;
    }
    const proposal = parseProposal(result.text, result.cutOff);
    remember(kind, question, result, { answer: result.text, command: commandOf(proposal) });
    const skipped = result.skipped.length > 0 ? { skipped: result.skipped } : {};
    return { ...proposal, provider: result.provider, ...skipped, ...takeNotices() };
  }

  const ask = (request: string, call: AiCallOptions = {}) =>
    queued('ask', translateInstructions(shell()), request, call);

  async function drainOnce(signal: AbortSignal | undefined): Promise<DrainResult> {
    let delivered = 0;
    try {
      providers();
    } catch (err) {
      if (err instanceof ConfigError) return { delivered, remaining: repo.pendingCount() };
      throw err;
    }
    for (const item of repo.pending()) {
      const instructions = instructionsFor(item.kind, shell());
      let result: ChatResult;
      try {
        result = await complete(instructions, item.question, { signal }, item.context ?? context());
      } catch (err) {
        repo.noteFailure(item.id, errorLine(err));
        if (err instanceof CancelledError || err instanceof NetworkError || isKeyRejected(err)) break;
        // a question the provider keeps failing on must not sit in the queue for ever
        if (
          item.attempts + 1 >= MAX_ATTEMPTS &&
          repo.deliver(item.id, failureMessage(item.question, err), now())
        ) {
          delivered++;
        }
        continue;
      }
      const proposal = parseProposal(result.text, result.cutOff);
      if (repo.deliver(item.id, answerMessage(item.kind, item.question, proposal), now())) {
        delivered++;
        remember(`${item.kind} (queued)`, item.question, result, {
          answer: result.text,
          command: commandOf(proposal),
        });
      }
    }
    return { delivered, remaining: repo.pendingCount() };
  }

  return {
    ask,
    translate: ask,

    async reviewRisk(line, localReason, call = {}) {
      try {
        const result = await complete(
          REVIEW_INSTRUCTIONS,
          `Command line: ${line}\nLocal rule: ${localReason}`,
          call,
        );
        remember('review', line, result, { answer: result.text });
        const text = visible(result.text.trim()); // printed on the terminal by the tier-3 prompt
        return text || `${localReason} (AI unavailable)`;
      } catch (err) {
        remember('review', line, undefined, { error: errorLine(err) });
        return `${localReason} (AI unavailable)`;
      }
    },

    async suggestFix(line, exitCode, output, call = {}) {
      if (!looksLikeUsageError(exitCode, output)) return undefined;
      const question = `Command: ${line}\nExit code: ${exitCode}\nOutput:\n${redactOutput(output.slice(-OUTPUT_FOR_AI))}`;
      try {
        const result = await complete(FIX_INSTRUCTIONS, question, call);
        const proposal = parseProposal(result.text, result.cutOff);
        const fix =
          proposal.kind === 'command' && proposal.command !== line.trim() ? proposal.command : undefined;
        remember('fix', line, result, { answer: result.text, command: fix ?? null });
        return fix;
      } catch (err) {
        if (err instanceof CancelledError) throw err;
        remember('fix', line, undefined, { error: errorLine(err) });
        return undefined;
      }
    },

    explain(record, call = {}) {
      const output = redactOutput(record.output ?? '');
      const question = [
        `Command: ${record.command}`,
        `Ran on: ${record.origin}${record.cwd ? ` in ${record.cwd}` : ''}`,
        `Exit code: ${record.exit ?? 'unknown'}`,
        `Output${output.length > OUTPUT_FOR_AI ? ' (last part)' : ''}:`,
        output.slice(-OUTPUT_FOR_AI) || '(none)',
      ].join('\n');
      return queued('explain', EXPLAIN_INSTRUCTIONS, question, call);
    },

    buildContext: context,
    systemPrompt: () => redactSecrets(systemPrompt(translateInstructions(shell()), context(), nonce)),

    drainPending(drain = {}) {
      // one drain at a time in this process; across processes the delete-then-insert transaction decides
      draining ??= drainOnce(drain.signal).finally(() => {
        draining = undefined;
      });
      return draining;
    },

    pendingCount: () => repo.pendingCount(),
    history: (limit) => store.aiHistory.recent(limit, { machine: store.machineName() }),
    providers,
  };
}

function commandOf(proposal: Proposal): string | null {
  if (proposal.kind === 'command') return proposal.command;
  if (proposal.kind === 'choice') return proposal.commands.join('\n');
  return null;
}

function instructionsFor(kind: PendingKind, shell: string): string {
  if (kind === 'explain') return EXPLAIN_INSTRUCTIONS;
  if (kind === 'fix') return FIX_INSTRUCTIONS;
  if (kind === 'review') return REVIEW_INSTRUCTIONS;
  return translateInstructions(shell);
}

function isKeyRejected(err: unknown): boolean {
  return err instanceof ProviderError && err.message.startsWith('key rejected');
}

function failureMessage(question: string, err: unknown): string {
  return `the AI could not answer “${question.length > 120 ? `${question.slice(0, 120)}…` : question}”: ${errorLine(err)}`;
}

function answerMessage(kind: PendingKind, question: string, proposal: Proposal): string {
  const asked = kind === 'explain' ? `/explain ${question.split('\n')[0] ?? ''}` : question;
  const head = `AI answer to “${asked.length > 120 ? `${asked.slice(0, 120)}…` : asked}”:`;
  if (proposal.kind === 'answer') {
    return proposal.refused ? `${head}\n${proposal.refused}` : `${head}\n${visible(proposal.text)}`;
  }
  const explanation = proposal.explanation ? `\n${visible(proposal.explanation)}` : '';
  if (proposal.kind === 'choice') {
    const listed = proposal.commands.map((c, i) => `  ${i + 1}) ${c}`).join('\n');
    return `${head}\nalternatives (none run; pick one yourself):\n${listed}${explanation}`;
  }
  return `${head}\nsuggested command (not run): ${proposal.command}${explanation}`;
}
