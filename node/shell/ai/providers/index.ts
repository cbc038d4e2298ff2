import { ConfigError } from '../../../../schemas/errors.ts';
import type { ConfigRepo } from '../../../core/store/config.ts';
import { anthropicProvider } from './anthropic.ts';
import type { HttpSettings } from './http.ts';
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

/** Used when ai.model is empty. */
export const DEFAULT_MODELS: Record<ProviderName, string> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-4o-mini',
  xai: 'grok-3-mini',
  ollama: 'llama3.2',
  'openai-compatible': 'default',
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
    // ai.model names the primary provider's model; fallbacks use their own default
    const modelFor = index === 0 && model ? model : DEFAULT_MODELS[name];
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
      providers.push(anthropicProvider({ baseUrl, key: key!.key, model: modelFor, http }));
    } else if (name === 'ollama') {
      providers.push(ollamaProvider({ baseUrl, model: modelFor, http }));
    } else {
      providers.push(openAiProvider({ name, baseUrl, key: key?.key, model: modelFor, http }));
    }
  }
  if (providers.length > 0) return providers;
  if (missing[0]) throw missing[0];
  throw new ConfigError('no AI provider configured', {
    hint: '/set config ai.provider ollama (or set ANTHROPIC_API_KEY)',
  });
}
