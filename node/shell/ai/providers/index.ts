import { ConfigError, ProviderError } from '../../../../schemas/errors.ts';
import type { ConfigRepo } from '../../../core/store/config.ts';
import { anthropicProvider } from './anthropic.ts';
import { field, getJson, type HttpSettings } from './http.ts';
import { ollamaProvider } from './ollama.ts';
import { openAiProvider } from './openai.ts';
import type { FetchFn, Provider, ProviderName } from './types.ts';

export const PROVIDER_LABELS: Record<ProviderName, string> = {
  anthropic: 'Anthropic',
  openai: 'OpenAI',
  xai: 'xAI',
  ollama: 'Ollama',
  'openai-compatible': 'the OpenAI-compatible server',
};

/** Used when neither ai.<provider>.model nor (for the primary) ai.model names one. */
export const DEFAULT_MODELS: Record<Exclude<ProviderName, 'openai-compatible'>, string> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-5-mini',
  xai: 'grok-4',
  ollama: 'llama3.2',
};

/** Each provider's own environment variable: its key is never offered to anyone else. */
const KEY_ENV: Partial<Record<ProviderName, string>> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  xai: 'XAI_API_KEY',
};

const NEEDS_KEY: ReadonlySet<ProviderName> = new Set(['anthropic', 'openai', 'xai']);

/** The config the AI reads: typed getters for known keys, `get` for per-provider keys. */
export interface ConfigSource extends Pick<ConfigRepo, 'get' | 'string' | 'number' | 'list'> {
  /** True when the key was set explicitly (not just its default). */
  isSet(key: string): boolean;
}

export interface ResolveOptions {
  config: ConfigSource;
  env: NodeJS.ProcessEnv;
  fetch: FetchFn;
  retries?: number;
  retryBaseMs?: number;
  maxRetryWaitMs?: number;
  /** Told once when a model is picked for the user (an OpenAI-compatible server's first model). */
  onNotice?: (notice: string) => void;
}

function isProviderName(value: string): value is ProviderName {
  return value in PROVIDER_LABELS;
}

/** The key for `name`: `/set config ai.<name>.key` first, then the provider's own env variable. */
export function providerKey(
  name: ProviderName,
  config: ConfigSource,
  env: NodeJS.ProcessEnv,
): { key: string; from: 'config' | 'env' } | undefined {
  const configured = config.get(`ai.${name}.key`);
  if (configured) return { key: configured, from: 'config' };
  const variable = KEY_ENV[name];
  const fromEnv = variable ? env[variable] : undefined;
  if (fromEnv) return { key: fromEnv, from: 'env' };
  return undefined;
}

/** ai.provider then ai.fallback, deduplicated; an unset ai.provider picks the first provider with a key. */
export function providerOrder(config: ConfigSource, env: NodeJS.ProcessEnv): ProviderName[] {
  const order: string[] = [];
  const primary = config.string('ai.provider');
  if (primary === 'none' && config.isSet('ai.provider')) return []; // explicitly off
  if (primary === 'none') {
    const detected = (['anthropic', 'openai', 'xai'] as const).find((p) => providerKey(p, config, env));
    if (detected) order.push(detected);
  } else {
    order.push(primary);
  }
  order.push(...config.list('ai.fallback'));
  return [...new Set(order)].filter((p): p is ProviderName => p !== 'none' && isProviderName(p));
}

function keyHint(name: ProviderName, from: 'config' | 'env' | undefined): string {
  const variable = KEY_ENV[name];
  if (from === 'config') return `fix it with /set config ai.${name}.key <key>`;
  if (variable) return `set ${variable} (or /set config ai.${name}.key)`;
  if (name === 'ollama') return 'check ai.ollama.base_url';
  return `set /set config ai.${name}.key`;
}

/**
 * The providers to try, in order. Throws ConfigError when none is usable, with the step that
 * fixes it; a provider missing its key is skipped when another one is usable.
 */
export function resolveProviders(options: ResolveOptions): Provider[] {
  const { config, env } = options;
  const timeoutMs = config.number('ai.timeout') * 1000;
  const model = config.string('ai.model');
  const providers: Provider[] = [];
  const missing: ConfigError[] = [];
  const order = providerOrder(config, env);
  for (const [index, name] of order.entries()) {
    const key = providerKey(name, config, env);
    const http: HttpSettings = {
      fetch: options.fetch,
      timeoutMs,
      retries: options.retries ?? 2,
      retryBaseMs: options.retryBaseMs ?? 500,
      maxRetryWaitMs: options.maxRetryWaitMs ?? Math.min(timeoutMs, 10_000),
      label: PROVIDER_LABELS[name],
      keyHint: keyHint(name, key?.from),
      key: key?.key,
    };
    const modelFor = config.get(`ai.${name}.model`) || (index === 0 && model) || '';
    const baseUrl = config.get(`ai.${name}.base_url`) ?? '';
    if (NEEDS_KEY.has(name) && !key) {
      missing.push(
        new ConfigError(`no API key for ${PROVIDER_LABELS[name]}`, {
          hint: keyHint(name, undefined),
        }),
      );
      continue;
    }
    if (!baseUrl) {
      missing.push(
        new ConfigError(`no base URL for ${PROVIDER_LABELS[name]}`, {
          hint: `/set config ai.${name}.base_url http://host:port/v1`,
        }),
      );
      continue;
    }
    if (name === 'anthropic') {
      providers.push(
        anthropicProvider({ baseUrl, key: key!.key, model: modelFor || DEFAULT_MODELS[name], http }),
      );
    } else if (name === 'ollama') {
      providers.push(ollamaProvider({ baseUrl, model: modelFor || DEFAULT_MODELS[name], http }));
    } else if (name === 'openai-compatible') {
      const model =
        modelFor ||
        ((signal: AbortSignal | undefined) => serverModel(http, baseUrl, key?.key, options.onNotice, signal));
      providers.push(openAiProvider({ name, baseUrl, key: key?.key, model, http }));
    } else {
      providers.push(
        openAiProvider({ name, baseUrl, key: key?.key, model: modelFor || DEFAULT_MODELS[name], http }),
      );
    }
  }
  if (providers.length > 0) return providers;
  if (missing[0]) throw missing[0];
  throw new ConfigError('no AI provider configured', {
    hint: '/set config ai.provider ollama (or set ANTHROPIC_API_KEY)',
  });
}

/** Models found on OpenAI-compatible servers, per base URL, for the life of the process. */
const discovered = new Map<string, string>();

/**
 * No model set for an OpenAI-compatible server: ask its /v1/models (vLLM, llama.cpp, LM Studio
 * and LocalAI all serve it) and use the first, saying so, instead of a made-up name it refuses.
 */
async function serverModel(
  http: HttpSettings,
  baseUrl: string,
  key: string | undefined,
  onNotice: ((notice: string) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const known = discovered.get(baseUrl);
  if (known) return known;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const list = await getJson(http, `${baseUrl}/models`, headers, signal);
  const first = field(list, 'data', 0, 'id');
  if (typeof first !== 'string' || first === '') {
    throw new ProviderError(`${http.label} lists no model at ${baseUrl}/models`, {
      hint: '/set config ai.openai-compatible.model NAME',
    });
  }
  discovered.set(baseUrl, first);
  onNotice?.(
    `no ai.openai-compatible.model set: using ${first}, the first model the server lists (/set config ai.openai-compatible.model NAME to choose)`,
  );
  return first;
}
