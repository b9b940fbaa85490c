import { DoraError } from '../common/errors.js';
import { provenanceOf } from './config-provenance.js';
import { CONFIG_KEYS, CONFIG_KEY_NAMES, type ConfigKey, type DoraConfig } from './config-keys.js';
import type { ConfigKeyDeclaration, ConfigSource, ConfigValue } from './config-types.js';
import { formatDuration, formatSize } from './units.js';

/** One key as `dora conf get` shows it. Values are text that reads back as the same value. */
export interface ConfigRow {
  readonly key: ConfigKey;
  /** e.g. `64 MiB`, `30s`, `info`; lists comma-separated. */
  readonly value: string;
  readonly default: string;
  readonly source: ConfigSource;
  readonly description: string;
}

/**
 * One row per declared key, in declaration order: its value in `config`, its default, where the
 * value came from and what it means. Throws INVALID_ARGUMENT when `config` was not produced by
 * `resolveConfig()` (a copy has no record of its sources).
 */
export function describeConfig(config: DoraConfig): ConfigRow[] {
  const provenance = provenanceOf(config);
  if (provenance === undefined) {
    throw new DoraError('INVALID_ARGUMENT', 'Cannot describe configuration: it was not produced by resolveConfig()');
  }
  return CONFIG_KEY_NAMES.map((key) => {
    const declaration: ConfigKeyDeclaration = CONFIG_KEYS[key];
    return {
      key,
      value: formatValue(declaration, valueAt(config, key)),
      default: formatValue(declaration, declaration.default),
      source: provenance[key],
      description: declaration.description,
    };
  });
}

function valueAt(config: DoraConfig, key: ConfigKey): ConfigValue {
  let node: unknown = config;
  for (const part of key.split('.')) node = (node as Record<string, unknown>)[part];
  return node as ConfigValue;
}

function formatValue(declaration: ConfigKeyDeclaration, value: ConfigValue): string {
  if (declaration.type === 'size') return formatSize(value as number);
  if (declaration.type === 'duration') return formatDuration(value as number);
  return Array.isArray(value) ? value.join(',') : String(value);
}
