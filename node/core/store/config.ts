import { ConfigError } from '../../../schemas/errors.ts';
import { isTier, type Tier } from '../tiers/rules.ts';
import { CONFIG_KEYS, type ConfigKeyOf, configSpec, parseConfigValue } from './config-keys.ts';
import type { Db } from './db.ts';

export interface ConfigEntry {
  key: string;
  value: string;
  isDefault: boolean;
  secret: boolean;
}

/** The `config` table, validated against CONFIG_KEYS on every write. */
export class ConfigRepo {
  private readonly getStmt;
  private readonly setStmt;

  constructor(private readonly db: Db) {
    this.getStmt = db.prepare<[string], { value: string }>('SELECT value FROM config WHERE key = ?');
    this.setStmt = db.prepare(
      'INSERT INTO config(key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
  }

  /** The stored value, else the key's default, else undefined. */
  get(key: string): string | undefined {
    const row = this.getStmt.get(key);
    if (row) return row.value;
    return configSpec(key)?.default;
  }

  /**
   * The typed getters: the stored value, validated as `/set config` would, else the key's one
   * default in CONFIG_KEYS. A stored value that is not valid (written by hand, or by an older
   * Isaac) is one ConfigError naming the key and the fix, never a silent fallback.
   */
  string(key: ConfigKeyOf<'text'>): string {
    return this.valid(key);
  }

  number(key: ConfigKeyOf<'integer'>): number {
    return Number(this.valid(key));
  }

  bool(key: ConfigKeyOf<'bool'>): boolean {
    return this.valid(key) === 'on';
  }

  tier(key: ConfigKeyOf<'tier'>): Tier {
    const tier = Number(this.valid(key));
    if (!isTier(tier)) throw this.badStored(key, String(tier));
    return tier;
  }

  list(key: ConfigKeyOf<'list'>): string[] {
    return this.valid(key)
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  private valid(key: string): string {
    const spec = configSpec(key)!;
    const row = this.getStmt.get(key);
    if (!row) return spec.default ?? '';
    try {
      return spec.parse(row.value, key);
    } catch (err) {
      throw this.badStored(key, row.value, err);
    }
  }

  private badStored(key: string, value: string, cause?: unknown): ConfigError {
    const fallback = configSpec(key)?.default;
    const rule = cause instanceof ConfigError && cause.hint ? ` (${cause.hint})` : '';
    const reset = fallback === undefined ? '' : `, or /unset config ${key} for the default ${fallback}`;
    return new ConfigError(`config ${key} holds ${JSON.stringify(value)}, which is not valid${rule}`, {
      cause,
      hint: `fix it with /set config ${key} VALUE${reset}`,
    });
  }

  /** Validates then stores; throws ConfigError and changes nothing on a bad key or value. */
  set(key: string, value: string): string {
    const normalised = parseConfigValue(key, value);
    this.setStmt.run(key, normalised, Date.now());
    return normalised;
  }

  /** Writes without validation: only for internal state keys (identity, counters). */
  setInternal(key: string, value: string): void {
    this.setStmt.run(key, value, Date.now());
  }

  unset(key: string): boolean {
    return this.db.prepare('DELETE FROM config WHERE key = ?').run(key).changes > 0;
  }

  /** Every known key with its effective value, plus stored overrides such as tier.<cmd>. */
  all(): ConfigEntry[] {
    const stored = new Map(
      this.db
        .prepare<[], { key: string; value: string }>('SELECT key, value FROM config ORDER BY key')
        .all()
        .map((r) => [r.key, r.value]),
    );
    const entries: ConfigEntry[] = [];
    const keys = new Set([...Object.keys(CONFIG_KEYS), ...stored.keys()]);
    for (const key of [...keys].sort()) {
      const spec = configSpec(key);
      if (!spec) continue; // internal state keys are not configuration
      const value = stored.get(key) ?? spec.default;
      if (value === undefined) continue;
      entries.push({ key, value, isDefault: !stored.has(key), secret: spec.secret === true });
    }
    return entries;
  }
}
