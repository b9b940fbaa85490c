import { DoraError } from '../common/errors.js';
import { closestMatch } from './closest-match.js';
import { CONFIG_KEY_NAMES, isConfigKey, type ConfigKey } from './config-keys.js';
import type { ConfigEntry } from './parse-config-entry.js';

/**
 * The settings in `flags`, a record keyed by dotted name as the CLI gives it
 * (`{ 'ufs.retry.maxAttempts': '5' }`), unparsed. Kebab-case spellings are accepted
 * (`ufs.retry.max-attempts`). Throws INVALID_ARGUMENT for a flag that names no key (with the
 * closest key, if one is near) or two spellings of the same key.
 */
export function readConfigFlags(flags: Readonly<Record<string, string>>): ConfigEntry[] {
  const spellings = new Map<ConfigKey, string>();
  const entries: ConfigEntry[] = [];
  for (const [name, raw] of Object.entries(flags)) {
    const key = name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
    if (!isConfigKey(key)) {
      const suggestion = closestMatch(key, CONFIG_KEY_NAMES);
      const hint = suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`;
      throw invalid(`Cannot read flag --${name}: it names no configuration key${hint}`);
    }
    const earlier = spellings.get(key);
    if (earlier !== undefined) throw invalid(`Cannot read flag --${name}: --${earlier} already sets "${key}"`);
    spellings.set(key, name);
    entries.push({ key, raw, origin: `flag --${name}` });
  }
  return entries;
}

function invalid(message: string): DoraError {
  return new DoraError('INVALID_ARGUMENT', message);
}
