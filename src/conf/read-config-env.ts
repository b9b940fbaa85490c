import { DoraError } from '../common/errors.js';
import { closestMatch } from './closest-match.js';
import { CONFIG_KEY_NAMES, NON_CONFIG_ENV_PREFIXES, NON_CONFIG_ENV_VARS, type ConfigKey } from './config-keys.js';
import type { ConfigEntry } from './parse-config-entry.js';

const PREFIX = 'DORA_';

/** The environment variable for `key`: `ufs.retry.maxAttempts` → `DORA_UFS_RETRY_MAX_ATTEMPTS`. */
export function envVarName(key: string): string {
  return `${PREFIX}${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replaceAll('.', '_').toUpperCase()}`;
}

/**
 * The settings in the `DORA_*` variables of `env` (the caller passes `process.env`; this module
 * never reads it), unparsed. Variables set to undefined are skipped; other variables are ignored.
 * Throws INVALID_ARGUMENT for a `DORA_*` variable that names no key and is not one of the
 * non-configuration variables (DORA_ADDRESS, DORA_CONFIG, DORA_TEST_*).
 */
export function readConfigEnv(env: Readonly<Record<string, string | undefined>>): ConfigEntry[] {
  const keysByName = new Map<string, ConfigKey>(CONFIG_KEY_NAMES.map((key) => [envVarName(key), key]));
  const entries: ConfigEntry[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.startsWith(PREFIX)) continue;
    const key = keysByName.get(name);
    if (key !== undefined) {
      entries.push({ key, raw, origin: name });
    } else if (!NON_CONFIG_ENV_VARS.includes(name) && !NON_CONFIG_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      // Compare without the shared prefix, so `DORA_MAX_ATTEMPTS` finds `DORA_UFS_RETRY_MAX_ATTEMPTS`.
      const known = [...keysByName.keys()].map((other) => other.slice(PREFIX.length));
      const suggestion = closestMatch(name.slice(PREFIX.length), known, '_');
      const hint = suggestion === undefined ? '' : ` (did you mean ${PREFIX}${suggestion}?)`;
      throw new DoraError('INVALID_ARGUMENT', `Cannot read environment variable ${name}: it names no configuration key${hint}`);
    }
  }
  return entries;
}
