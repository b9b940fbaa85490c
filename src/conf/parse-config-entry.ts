import { DoraError, describeCause } from '../common/errors.js';
import { CONFIG_KEYS, type ConfigKey } from './config-keys.js';
import type { ConfigKeyDeclaration, ConfigValue } from './config-types.js';
import { formatDuration, formatSize, parseDuration, parseSize } from './units.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** One setting as a source gave it, before parsing. */
export interface ConfigEntry {
  readonly key: ConfigKey;
  /** Text (from an environment variable or flag) or a parsed YAML value (number, string, array, …). */
  readonly raw: unknown;
  /** Where it came from, for messages: `DORA_UFS_TIMEOUT`, `flag --ufs.timeout`, `"/etc/dora.yaml" line 3`. */
  readonly origin: string;
}

/**
 * The value `entry` gives its key: parsed by the key's declared type and checked against its
 * bounds. Text is accepted for every type (so `maxAttempts: "5"` works in a file); a YAML number
 * for a size or duration is bytes or milliseconds. Lists come back frozen.
 * Throws INVALID_ARGUMENT naming the key and origin:
 * `Cannot read configuration key "ufs.timeout" from DORA_UFS_TIMEOUT: "abc" is not a duration (e.g. 30s, 500ms)`.
 */
export function parseConfigEntry(entry: ConfigEntry): ConfigValue {
  try {
    return parseConfigValue(CONFIG_KEYS[entry.key], entry.raw);
  } catch (error) {
    const attempt = `Cannot read configuration key "${entry.key}" from ${entry.origin}`;
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: ${describeCause(error)}`, { cause: error });
  }
}

/** The value `raw` gives a key declared as `declaration`; throws INVALID_ARGUMENT with the bare cause. */
export function parseConfigValue(declaration: ConfigKeyDeclaration, raw: unknown): ConfigValue {
  switch (declaration.type) {
    case 'string':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
      throw invalid(`${describe(raw)} is not a string`);
    case 'int':
      return checkBounds(raw, parseInteger(raw), declaration, String);
    case 'bool':
      return parseBoolean(raw);
    case 'size':
      return checkBounds(raw, parseSize(quantityText(raw, 'size (e.g. 512MiB, 64MB, 4096)')), declaration, formatSize);
    case 'duration':
      return checkBounds(raw, parseDuration(quantityText(raw, 'duration (e.g. 30s, 500ms)')), declaration, formatDuration);
    case 'enum':
      if (typeof raw === 'string' && declaration.values.includes(raw)) return raw;
      throw invalid(`${describe(raw)} is not one of ${declaration.values.join(', ')}`);
    case 'list':
      return parseList(raw);
  }
}

function parseInteger(raw: unknown): number {
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  const text = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : '';
  if (!/^-?\d+$/.test(text)) throw invalid(`${describe(raw)} is not an integer`);
  const value = BigInt(text);
  if (value > MAX_SAFE || value < -MAX_SAFE) {
    throw invalid(`${describe(raw)} is out of range (the limit is ±${Number.MAX_SAFE_INTEGER})`);
  }
  return Number(value);
}

function parseBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw invalid(`${describe(raw)} is not a boolean (true or false)`);
}

/** Sizes and durations parse from text; a YAML number is read as that many bytes or milliseconds. */
function quantityText(raw: unknown, what: string): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') return String(raw);
  throw invalid(`${describe(raw)} is not a ${what}`);
}

function parseList(raw: unknown): readonly string[] {
  if (typeof raw === 'string') {
    return Object.freeze(raw.split(',').map((item) => item.trim()).filter((item) => item !== ''));
  }
  if (!Array.isArray(raw)) throw invalid(`${describe(raw)} is not a list of strings`);
  return Object.freeze(
    raw.map((item: unknown, index) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number' && Number.isFinite(item)) return String(item);
      throw invalid(`item ${index + 1} of the list, ${describe(item)}, is not a string`);
    }),
  );
}

function checkBounds(raw: unknown, value: number, bounds: { min?: number; max?: number }, format: (n: number) => string): number {
  const { min, max } = bounds;
  if ((min === undefined || value >= min) && (max === undefined || value <= max)) return value;
  const range =
    min !== undefined && max !== undefined
      ? `${format(min)} to ${format(max)}`
      : min !== undefined
        ? `at least ${format(min)}`
        : `at most ${format(max ?? 0)}`;
  throw invalid(`${describe(raw)} is out of range (${range})`);
}

/** `raw` as a message quotes it: text in quotes, numbers bare, structures by kind. */
function describe(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  if (raw === null || raw === undefined) return 'an empty value';
  return Array.isArray(raw) ? 'a list' : 'a mapping';
}

function invalid(message: string): DoraError {
  return new DoraError('INVALID_ARGUMENT', message);
}
