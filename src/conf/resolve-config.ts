import { throwIfAborted } from '../common/system-errors.js';
import { attachProvenance } from './config-provenance.js';
import { CONFIG_KEYS, CONFIG_KEY_NAMES, type ConfigKey, type DoraConfig } from './config-keys.js';
import type { ConfigSource, ConfigValue } from './config-types.js';
import { parseConfigEntry, type ConfigEntry } from './parse-config-entry.js';
import { readConfigEnv } from './read-config-env.js';
import { readConfigFile } from './read-config-file.js';
import { readConfigFlags } from './read-config-flags.js';

/** What configuration is resolved from. This module never reads `process.env` or argv itself. */
export interface ConfigSources {
  /** Path of a YAML file; absent means defaults, environment and flags only. */
  readonly file?: string | undefined;
  /** The process environment, usually `process.env`; only `DORA_*` variables are read. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Flags keyed by dotted (or kebab-case) key name, e.g. `{ 'ufs.retry.maxAttempts': '5' }`. */
  readonly flags: Readonly<Record<string, string>>;
}

export interface ResolveConfigOptions {
  signal?: AbortSignal | undefined;
}

/**
 * The configuration from the declared defaults overridden by `sources` (file < env < flags):
 * a deeply frozen tree such as `config.ufs.retry.maxAttempts`. Every source is read and
 * checked, even for keys a later source overrides.
 * Throws INVALID_ARGUMENT naming the bad key or value and where it came from, NOT_FOUND for a
 * missing file, CANCELLED when `signal` aborts.
 */
export async function resolveConfig(sources: ConfigSources, options: ResolveConfigOptions = {}): Promise<DoraConfig> {
  throwIfAborted(options.signal, 'Cannot load configuration');
  const layers: (readonly [ConfigSource, ConfigEntry[]])[] = [
    ['file', sources.file === undefined ? [] : await readConfigFile(sources.file, options)],
    ['env', readConfigEnv(sources.env)],
    ['flag', readConfigFlags(sources.flags)],
  ];
  const values = new Map<ConfigKey, ConfigValue>();
  const provenance = {} as Record<ConfigKey, ConfigSource>;
  for (const key of CONFIG_KEY_NAMES) {
    values.set(key, CONFIG_KEYS[key].default);
    provenance[key] = 'default';
  }
  for (const [source, entries] of layers) {
    for (const entry of entries) {
      values.set(entry.key, parseConfigEntry(entry));
      provenance[entry.key] = source;
    }
  }
  const config = buildTree(values);
  attachProvenance(config, provenance);
  return deepFreeze(config) as unknown as DoraConfig;
}

/** `{ 'ufs.timeout': 1 }` → `{ ufs: { timeout: 1 } }`. */
function buildTree(values: ReadonlyMap<ConfigKey, ConfigValue>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of values) {
    const parts = key.split('.');
    const leaf = parts.pop() ?? key;
    let node = root;
    for (const part of parts) node = (node[part] ??= {}) as Record<string, unknown>;
    node[leaf] = Array.isArray(value) ? [...(value as readonly string[])] : value;
  }
  return root;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
