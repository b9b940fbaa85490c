import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { DoraError, describeCause } from '../../common/errors.js';
import { parseSize } from '../../conf/units.js';
import { ObjectUfs } from '../object/object-ufs.js';
import type { UfsFactory, UfsOptions } from '../ufs-registry.js';
import { booleanOption, checkKnownOptions } from '../ufs-options.js';
import { GcsApi } from './gcs-api.js';
import { ANONYMOUS_AUTH, ServiceAccountAuth, accessTokenAuth, parseServiceAccountKey, type GcsAuth } from './gcs-auth.js';
import { GcsClient } from './gcs-client.js';
import { gcsLocation } from './gcs-location.js';
import { RESUMABLE_CHUNK_UNIT } from './gcs-resumable.js';

const OPTIONS = ['endpoint', 'keyFile', 'credentials', 'accessToken', 'anonymous', 'multipartThreshold', 'partSize'] as const;
const DEFAULT_ENDPOINT = 'https://storage.googleapis.com';

/**
 * `gs://bucket/prefix` → an ObjectUfs over Cloud Storage's JSON API. Options: one way to
 * authenticate — keyFile (path of a service account's JSON key), credentials (the key's JSON
 * itself), accessToken (an OAuth 2.0 token, never renewed) or anonymous=true (public buckets);
 * endpoint (default https://storage.googleapis.com); multipartThreshold and partSize overriding
 * the process's tuning (partSize: a multiple of 256 KiB). HMAC keys belong to the XML API: mount
 * those as `s3://` with endpoint https://storage.googleapis.com.
 */
export const createGcsUfs: UfsFactory = (uri, options, tuning) => {
  checkKnownOptions(uri.text, options, OPTIONS);
  const context = `Cannot open store "${uri.text}"`;
  const location = gcsLocation(uri);
  const endpoint = options['endpoint'] ?? DEFAULT_ENDPOINT;
  if (!/^https?:\/\/[^/]+/.test(endpoint)) throw new DoraError('INVALID_ARGUMENT', `${context}: endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`);
  const auth = authFrom(uri.text, options);
  let partSize = Math.ceil(tuning.partSize / RESUMABLE_CHUNK_UNIT) * RESUMABLE_CHUNK_UNIT;
  if (options['partSize'] !== undefined) {
    partSize = sizeOption(context, options, 'partSize');
    if (partSize < RESUMABLE_CHUNK_UNIT || partSize % RESUMABLE_CHUNK_UNIT !== 0) {
      throw new DoraError('INVALID_ARGUMENT', `${context}: partSize must be a multiple of 256KiB (Cloud Storage's resumable chunk unit), not ${options['partSize']}`);
    }
  }
  const multipartThreshold = options['multipartThreshold'] === undefined ? tuning.multipartThreshold : sizeOption(context, options, 'multipartThreshold');
  const api = new GcsApi({ endpoint, maxSockets: tuning.maxSockets, auth });
  const client = new GcsClient(api, location.bucket, { multipartThreshold, partSize });
  return new ObjectUfs(client, { uri: `gs://${location.bucket}/${location.prefix}`, prefix: location.prefix });
};

/** The one authentication the options name, as a factory of GcsAuth over the API's connection pool. */
function authFrom(uriText: string, options: UfsOptions): (dispatcher: Dispatcher) => GcsAuth {
  const context = `Cannot open store "${uriText}"`;
  const anonymous = booleanOption(uriText, options, 'anonymous', false);
  const given: string[] = ['keyFile', 'credentials', 'accessToken'].filter((k) => options[k] !== undefined);
  if (anonymous) given.push('anonymous=true');
  if (given.length === 0) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: no credentials: give keyFile or credentials (a service account's JSON key), accessToken, or anonymous=true for a public bucket`);
  }
  if (given.length > 1) throw new DoraError('INVALID_ARGUMENT', `${context}: give one of keyFile, credentials, accessToken and anonymous, not ${given.join(' and ')}`);
  if (anonymous) return () => ANONYMOUS_AUTH;
  const token = options['accessToken'];
  if (token !== undefined) {
    if (token === '' || /\s/.test(token)) throw new DoraError('INVALID_ARGUMENT', `${context}: accessToken is empty or has spaces`);
    return () => accessTokenAuth(token);
  }
  const keyFile = options['keyFile'];
  let text = options['credentials'] ?? '';
  if (keyFile !== undefined) {
    try {
      text = readFileSync(keyFile, 'utf8');
    } catch (error) {
      throw new DoraError('INVALID_ARGUMENT', `${context}: cannot read keyFile ${JSON.stringify(keyFile)} (${describeCause(error)})`, { cause: error });
    }
  }
  const key = parseServiceAccountKey(text, keyFile === undefined ? `${context}: credentials` : `${context}: keyFile ${JSON.stringify(keyFile)}`);
  return (dispatcher) => new ServiceAccountAuth(key, { dispatcher });
}

function sizeOption(context: string, options: UfsOptions, name: string): number {
  try {
    return parseSize(options[name] ?? '');
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: option "${name}": ${describeCause(error)}`, { cause: error });
  }
}
