import { ConfigError } from '../../../schemas/errors.ts';
import { isMachineName } from '../../../schemas/names.ts';

/**
 * Every configuration key Isaac knows, with its default and validator. `/set config` refuses
 * anything not listed here (or matching a listed pattern), so a typo never silently does nothing.
 */
/** What a key's value is, which picks its typed getter in ConfigRepo (`config.tier('tier.default')`). */
export type ConfigKind = 'text' | 'integer' | 'bool' | 'tier' | 'list';

export interface ConfigKeySpec {
  description: string;
  kind: ConfigKind;
  default?: string;
  /** Returns the normalised value or throws ConfigError. */
  parse(value: string, key: string): string;
  /** Masked in `/show config` (API keys). */
  secret?: boolean;
}

const TIERS = ['1', '2', '2.5', '3', '4'];

function oneOf(options: readonly string[]) {
  return (value: string, key: string): string => {
    if (!options.includes(value)) {
      throw new ConfigError(`invalid value ${JSON.stringify(value)} for ${key}`, {
        hint: `use one of: ${options.join(', ')}`,
      });
    }
    return value;
  };
}

function integer(min: number, max: number) {
  return (value: string, key: string): string => {
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new ConfigError(`invalid value ${JSON.stringify(value)} for ${key}`, {
        hint: `use a whole number from ${min} to ${max}`,
      });
    }
    return String(Number(value));
  };
}

const bool = (value: string, key: string): string => {
  const v = value.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return 'on';
  if (['off', 'false', 'no', '0'].includes(v)) return 'off';
  throw new ConfigError(`invalid value ${JSON.stringify(value)} for ${key}`, { hint: 'use on or off' });
};

const anyText = (value: string): string => value;

const machineList = (value: string, key: string): string => {
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  const bad = names.find((n) => !isMachineName(n));
  if (bad !== undefined) {
    throw new ConfigError(`invalid machine name ${JSON.stringify(bad)} in ${key}`, {
      hint: 'give a comma-separated list of machine names',
    });
  }
  return names.join(',');
};

const url = (value: string, key: string): string => {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    return value.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`invalid URL ${JSON.stringify(value)} for ${key}`, {
      hint: 'use an http:// or https:// URL',
    });
  }
};

export const AI_PROVIDERS = ['anthropic', 'openai', 'xai', 'ollama', 'openai-compatible', 'none'] as const;

const KEYS = {
  'machine.name': {
    kind: 'text',
    description: 'this machine’s name in the network (topic level and MQTT client id)',
    parse: (value, key) => {
      if (!isMachineName(value)) {
        throw new ConfigError(`invalid value ${JSON.stringify(value)} for ${key}`, {
          hint: 'use 1-32 characters of a-z, 0-9 and -, starting with a letter or digit',
        });
      }
      return value;
    },
  },
  'shell.program': {
    kind: 'text',
    description: 'the shell commands run in',
    default: 'bash',
    parse: anyText,
  },
  'shell.output_limit': {
    kind: 'integer',
    description: 'bytes of each command’s output kept in history',
    default: '65536',
    parse: integer(0, 16 * 1024 * 1024),
  },
  'history.record': { kind: 'bool', description: 'record commands in history', default: 'on', parse: bool },
  'tier.default': {
    kind: 'tier',
    description: 'tier of commands no rule knows',
    default: '2',
    parse: oneOf(TIERS),
  },
  'remote.max_tier': {
    kind: 'tier',
    description: 'highest tier a remote !exec may run here (tier 4 never runs)',
    default: '2',
    parse: oneOf(['1', '2', '2.5', '3']),
  },
  'remote.allow_from': {
    kind: 'list',
    description: 'machines allowed to !exec here (empty: every member)',
    default: '',
    parse: machineList,
  },
  'remote.timeout': {
    kind: 'integer',
    description: 'seconds a remote command may run',
    default: '300',
    parse: integer(1, 86400),
  },
  'remote.confirm_timeout': {
    kind: 'integer',
    description:
      'seconds an isaac shell here shows a tier-3 remote command (remote.max_tier 3) for a yes; no answer refuses it',
    default: '60',
    parse: integer(1, 3600),
  },
  'ai.provider': { kind: 'text', description: 'AI provider', default: 'none', parse: oneOf(AI_PROVIDERS) },
  'ai.fallback': {
    kind: 'list',
    description: 'providers to try next, comma-separated',
    default: '',
    parse: (value, key) => {
      const list = value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      for (const p of list) oneOf(AI_PROVIDERS)(p, key);
      return list.join(',');
    },
  },
  'ai.model': {
    kind: 'text',
    description: 'model of ai.provider (provider default if empty)',
    default: '',
    parse: anyText,
  },
  'ai.anthropic.model': {
    kind: 'text',
    description: 'Anthropic model (default claude-sonnet-4-5)',
    default: '',
    parse: anyText,
  },
  'ai.openai.model': {
    kind: 'text',
    description: 'OpenAI model (default gpt-5-mini)',
    default: '',
    parse: anyText,
  },
  'ai.xai.model': { kind: 'text', description: 'xAI model (default grok-4)', default: '', parse: anyText },
  'ai.ollama.model': {
    kind: 'text',
    description: 'Ollama model (default llama3.2)',
    default: '',
    parse: anyText,
  },
  'ai.openai-compatible.model': {
    kind: 'text',
    description: 'model of the OpenAI-compatible server (default: the first of its /v1/models)',
    default: '',
    parse: anyText,
  },
  'ai.timeout': {
    kind: 'integer',
    description: 'seconds to wait for a provider',
    default: '30',
    parse: integer(1, 600),
  },
  'ai.context.machines': {
    kind: 'text',
    description: 'machines whose history feeds the AI (all, or a comma list)',
    default: 'all',
    parse: (value, key) => (value === 'all' ? value : machineList(value, key)),
  },
  'ai.context.size': {
    kind: 'integer',
    description: 'recent commands sent as context',
    default: '50',
    parse: integer(0, 1000),
  },
  'ai.anthropic.key': { kind: 'text', description: 'Anthropic API key', parse: anyText, secret: true },
  'ai.openai.key': { kind: 'text', description: 'OpenAI API key', parse: anyText, secret: true },
  'ai.xai.key': { kind: 'text', description: 'xAI API key', parse: anyText, secret: true },
  'ai.openai-compatible.key': {
    kind: 'text',
    description: 'API key for the OpenAI-compatible endpoint',
    parse: anyText,
    secret: true,
  },
  'ai.anthropic.base_url': {
    kind: 'text',
    description: 'Anthropic API base URL',
    default: 'https://api.anthropic.com',
    parse: url,
  },
  'ai.openai.base_url': {
    kind: 'text',
    description: 'OpenAI API base URL',
    default: 'https://api.openai.com/v1',
    parse: url,
  },
  'ai.xai.base_url': {
    kind: 'text',
    description: 'xAI API base URL',
    default: 'https://api.x.ai/v1',
    parse: url,
  },
  'ai.ollama.base_url': {
    kind: 'text',
    description: 'Ollama base URL',
    default: 'http://127.0.0.1:11434',
    parse: url,
  },
  'ai.openai-compatible.base_url': {
    kind: 'text',
    description: 'OpenAI-compatible base URL',
    default: '',
    parse: url,
  },
  'sync.output': {
    kind: 'bool',
    description: 'sync captured output (truncated)',
    default: 'off',
    parse: bool,
  },
  'sync.exclude': {
    kind: 'text',
    description: 'comma-separated patterns of commands never synced',
    default: '',
    parse: anyText,
  },
  'ha.discovery': {
    kind: 'bool',
    description: 'publish Home Assistant MQTT discovery',
    default: 'off',
    parse: bool,
  },
  'node.log_level': {
    kind: 'text',
    description: 'how much isaac-node logs (isaac-node start --log-level overrides it)',
    default: 'info',
    parse: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  },
} satisfies Record<string, ConfigKeySpec>;

export const CONFIG_KEYS: Readonly<Record<string, ConfigKeySpec>> = KEYS;

type Keys = typeof KEYS;
/** The keys of one kind that have a default, so their getter always has a value. */
export type ConfigKeyOf<K extends ConfigKind> = {
  [P in keyof Keys]: Keys[P] extends { kind: K; default: string } ? P : never;
}[keyof Keys];

/** `tier.<command>` overrides the shipped rule for one command name. */
const TIER_OVERRIDE = /^tier\.([A-Za-z0-9_.+-]{1,64})$/;

export function configSpec(key: string): ConfigKeySpec | undefined {
  const exact = CONFIG_KEYS[key];
  if (exact) return exact;
  if (TIER_OVERRIDE.test(key)) {
    return { kind: 'tier', description: `tier override for ${key.slice(5)}`, parse: oneOf(TIERS) };
  }
  return undefined;
}

export function parseConfigValue(key: string, value: string): string {
  const spec = configSpec(key);
  if (!spec) {
    throw new ConfigError(`unknown config key ${JSON.stringify(key)}`, {
      hint: 'see /show config for the keys, or tier.<command> for a tier override',
    });
  }
  return spec.parse(value.trim(), key);
}

export function maskSecret(value: string): string {
  if (value.length <= 8) return '****';
  return `${value.slice(0, 4)}…${value.slice(-2)}`;
}
