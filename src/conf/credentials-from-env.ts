import { DoraError } from '../common/errors.js';

/**
 * The store options a credentials name can supply, as environment suffixes: S3's key pair and
 * session token, Azure's account key, SAS token and connection string, Swift's user, key,
 * password and token, GCS's service-account key and access token, WebHDFS's delegation token,
 * HTTP's basic auth.
 */
const FIELDS = [
  ['ACCESS_KEY_ID', 'accessKeyId'],
  ['SECRET_ACCESS_KEY', 'secretAccessKey'],
  ['SESSION_TOKEN', 'sessionToken'],
  ['ACCOUNT_KEY', 'accountKey'],
  ['SAS_TOKEN', 'sasToken'],
  ['CONNECTION_STRING', 'connectionString'],
  ['USER', 'user'],
  ['KEY', 'key'],
  ['PASSWORD', 'password'],
  ['TOKEN', 'token'],
  ['CREDENTIALS', 'credentials'],
  ['KEY_FILE', 'keyFile'],
  ['ACCESS_TOKEN', 'accessToken'],
  ['DELEGATION_TOKEN', 'delegationToken'],
  ['BASIC_AUTH', 'basicAuth'],
] as const;

/**
 * Resolves a mount's credentials name from the environment, so secrets never enter the mount
 * table: name `prod` reads `DORA_CREDENTIALS_PROD_<FIELD>` for each field above, e.g.
 * `…_ACCESS_KEY_ID` and `…_SECRET_ACCESS_KEY` for S3, `…_ACCOUNT_KEY` for Azure. Throws
 * NOT_FOUND naming the variables when none are set, or one of S3's pair is missing.
 */
export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): (name: string) => Record<string, string> {
  return (name) => {
    const prefix = `DORA_CREDENTIALS_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
    const found: Record<string, string> = {};
    for (const [suffix, option] of FIELDS) {
      const value = env[prefix + suffix];
      if (value !== undefined && value !== '') found[option] = value;
    }
    if (Object.keys(found).length === 0) {
      throw new DoraError('NOT_FOUND', `Cannot resolve credentials "${name}": set ${prefix}ACCESS_KEY_ID and ${prefix}SECRET_ACCESS_KEY (S3), or another of ${FIELDS.map(([s]) => prefix + s).join(', ')}`);
    }
    if ((found['accessKeyId'] === undefined) !== (found['secretAccessKey'] === undefined)) {
      throw new DoraError('NOT_FOUND', `Cannot resolve credentials "${name}": set both ${prefix}ACCESS_KEY_ID and ${prefix}SECRET_ACCESS_KEY`);
    }
    return found;
  };
}
