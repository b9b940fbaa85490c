import { DoraError } from '../common/errors.js';
import type { UfsOptions } from './ufs-registry.js';

/** Throws INVALID_ARGUMENT naming the first option a backend does not know. */
export function checkKnownOptions(uri: string, options: UfsOptions, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const accepted = known.length === 0 ? 'it takes no options' : `accepted: ${known.join(', ')}`;
      throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri}": unknown option "${key}" (${accepted})`);
    }
  }
}

/** Reads a boolean option ('true'/'false'), or `fallback` when absent. */
export function booleanOption(uri: string, options: UfsOptions, key: string, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri}": option "${key}" must be true or false, not ${JSON.stringify(value)}`);
}
