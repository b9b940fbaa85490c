import { DoraError, describeCause } from '../../common/errors.js';
import { parseSize } from '../../conf/units.js';
import { ObjectUfs } from '../object/object-ufs.js';
import type { UfsFactory, UfsOptions } from '../ufs-registry.js';
import { booleanOption, checkKnownOptions } from '../ufs-options.js';
import { AzureApi, type AzureCredentials } from './azure-api.js';
import { AzureClient } from './azure-client.js';
import { azureLocation, defaultEndpoint, type AzureLocation } from './azure-location.js';
import { MAX_BLOCK_BYTES, MAX_PUT_BLOB_BYTES } from './azure-upload.js';

const OPTIONS = ['endpoint', 'accountKey', 'sasToken', 'connectionString', 'anonymous', 'multipartThreshold', 'partSize'] as const;

/**
 * `wasbs://container@account/prefix` (or `wasb://`, `abfss://`, `abfs://`) → an ObjectUfs over
 * the Azure Blob API. Options: one way to authenticate — accountKey (shared key), sasToken,
 * connectionString, or anonymous=true (public containers); endpoint (the blob service URL, e.g.
 * Azurite's `http://127.0.0.1:10000/devstoreaccount1` or a sovereign cloud's; default
 * `https://<account>.blob.core.windows.net`); multipartThreshold and partSize overriding the
 * process's tuning.
 */
export const createAzureUfs: UfsFactory = (uri, options, tuning) => {
  checkKnownOptions(uri.text, options, OPTIONS);
  const context = `Cannot open store "${uri.text}"`;
  const location = azureLocation(uri);
  const endpoint = options['endpoint'];
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`);
  }
  const credentials = credentialsFrom(uri.text, location, options);
  if (credentials.kind === 'connectionString' && endpoint !== undefined) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: a connection string names its endpoint (BlobEndpoint=…); give endpoint or connectionString, not both`);
  }
  const partSize = sizeOption(context, options, 'partSize', Math.min(tuning.partSize, MAX_BLOCK_BYTES), MAX_BLOCK_BYTES);
  const multipartThreshold = sizeOption(context, options, 'multipartThreshold', Math.min(tuning.multipartThreshold, MAX_PUT_BLOB_BYTES), MAX_PUT_BLOB_BYTES);
  let api: AzureApi;
  try {
    api = new AzureApi({ endpoint: endpoint ?? defaultEndpoint(location), container: location.container, credentials, maxSockets: tuning.maxSockets });
  } catch (error) {
    // The SDK refuses a malformed connection string or key when the client is built.
    throw new DoraError('INVALID_ARGUMENT', `${context}: ${describeCause(error)}`, { cause: error });
  }
  const client = new AzureClient(api, { multipartThreshold, partSize, uploadConcurrency: tuning.uploadConcurrency });
  return new ObjectUfs(client, { uri: location.uri, prefix: location.prefix });
};

/** The one authentication the options name. */
function credentialsFrom(uriText: string, location: AzureLocation, options: UfsOptions): AzureCredentials {
  const context = `Cannot open store "${uriText}"`;
  const given: string[] = ['accountKey', 'sasToken', 'connectionString'].filter((k) => options[k] !== undefined);
  const anonymous = booleanOption(uriText, options, 'anonymous', false);
  if (anonymous) given.push('anonymous=true');
  if (given.length === 0) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: no credentials: give accountKey, sasToken or connectionString, or anonymous=true for a public container`);
  }
  if (given.length > 1) throw new DoraError('INVALID_ARGUMENT', `${context}: give one of accountKey, sasToken, connectionString and anonymous, not ${given.join(' and ')}`);
  const { accountKey, sasToken, connectionString } = options;
  if (accountKey !== undefined) {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(accountKey)) throw new DoraError('INVALID_ARGUMENT', `${context}: accountKey is not base64 (copy key1 or key2 of the storage account)`);
    return { kind: 'sharedKey', account: location.account, accountKey };
  }
  if (sasToken !== undefined) {
    if (!/(^|[?&])sig=/.test(sasToken)) throw new DoraError('INVALID_ARGUMENT', `${context}: sasToken has no signature (sig=…); give the query string of a SAS URL`);
    return { kind: 'sas', sasToken };
  }
  if (connectionString !== undefined) {
    const named = /(?:^|;)\s*AccountName=([^;]*)/i.exec(connectionString)?.[1]?.trim().toLowerCase();
    if (named !== undefined && named !== location.account) {
      throw new DoraError('INVALID_ARGUMENT', `${context}: the connection string is for account "${named}", not "${location.account}"`);
    }
    return { kind: 'connectionString', connectionString };
  }
  return { kind: 'anonymous' };
}

function sizeOption(context: string, options: UfsOptions, key: string, fallback: number, max: number): number {
  const text = options[key];
  if (text === undefined) return fallback;
  let bytes: number;
  try {
    bytes = parseSize(text);
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `${context}: ${key}: ${describeCause(error)}`, { cause: error });
  }
  if (bytes < 1 || bytes > max) throw new DoraError('INVALID_ARGUMENT', `${context}: ${key} must be between 1B and ${max / 1024 / 1024}MiB, not ${text}`);
  return bytes;
}
