import { DoraError } from '../../common/errors.js';
import type { UfsFactory } from '../ufs-registry.js';
import { booleanOption, checkKnownOptions } from '../ufs-options.js';
import { parseSize } from '../../conf/units.js';
import { S3Api } from './s3-api.js';
import { s3Location } from './s3-location.js';
import { S3Ufs } from './s3-ufs.js';

const OPTIONS = ['endpoint', 'region', 'pathStyle', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'profile', 'multipartThreshold', 'partSize', 'tagging'] as const;

/**
 * `s3://bucket/prefix` (or `s3a://`) → an S3Ufs. Options: endpoint (for S3-compatible stores),
 * region (default us-east-1), pathStyle (default true when an endpoint is given), static
 * credentials (accessKeyId, secretAccessKey, sessionToken) or a shared-config profile (else
 * the SDK's default chain), multipartThreshold / partSize overriding the process's tuning, and
 * tagging (default true; false for S3-compatible stores without object tagging, e.g. Swift's s3api).
 */
export const createS3Ufs: UfsFactory = (uri, options, tuning) => {
  checkKnownOptions(uri.text, options, OPTIONS);
  const location = s3Location(uri);
  const endpoint = options['endpoint'];
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri.text}": endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`);
  }
  const accessKeyId = options['accessKeyId'];
  const secretAccessKey = options['secretAccessKey'];
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri.text}": accessKeyId and secretAccessKey go together`);
  }
  const partSize = options['partSize'] === undefined ? tuning.partSize : parseSize(options['partSize']);
  if (partSize < 5 * 1024 * 1024) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri.text}": partSize must be at least 5MiB (S3's smallest part)`);
  }
  const api = new S3Api({
    region: options['region'] ?? 'us-east-1',
    endpoint,
    forcePathStyle: booleanOption(uri.text, options, 'pathStyle', endpoint !== undefined),
    credentials: accessKeyId === undefined || secretAccessKey === undefined ? undefined : { accessKeyId, secretAccessKey, sessionToken: options['sessionToken'] },
    profile: options['profile'],
    maxSockets: tuning.maxSockets,
  });
  return new S3Ufs(api, location, {
    ...tuning,
    partSize,
    multipartThreshold: options['multipartThreshold'] === undefined ? tuning.multipartThreshold : parseSize(options['multipartThreshold']),
  }, { tagging: booleanOption(uri.text, options, 'tagging', true) });
};
