import { DoraError } from '../common/errors.js';

const FIELDS = [
  ['ACCESS_KEY_ID', 'accessKeyId'],
  ['SECRET_ACCESS_KEY', 'secretAccessKey'],
  ['SESSION_TOKEN', 'sessionToken'],
] as const;

/**
 * Resolves a mount's credentials name from the environment, so keys never enter the mount
 * table: name `prod` reads `DORA_CREDENTIALS_PROD_ACCESS_KEY_ID`, `…_SECRET_ACCESS_KEY` and,
 * if set, `…_SESSION_TOKEN`. Throws NOT_FOUND naming the variables when none are set.
 */
export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): (name: string) => Record<string, string> {
  return (name) => {
    const prefix = `DORA_CREDENTIALS_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
    const found: Record<string, string> = {};
    for (const [suffix, option] of FIELDS) {
      const value = env[prefix + suffix];
      if (value !== undefined && value !== '') found[option] = value;
    }
    if (found['accessKeyId'] === undefined || found['secretAccessKey'] === undefined) {
      throw new DoraError('NOT_FOUND', `Cannot resolve credentials "${name}": set ${prefix}ACCESS_KEY_ID and ${prefix}SECRET_ACCESS_KEY`);
    }
    return found;
  };
}
