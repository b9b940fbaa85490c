import { DoraError } from '../../common/errors.js';
import type { StoreUri } from '../../common/store-uri.js';

/** Where a store root is in S3: a bucket and a key prefix ('' or ending in '/'). */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/some/prefix` → { bucket, prefix: 'some/prefix/' }. Throws INVALID_ARGUMENT. */
export function s3Location(uri: StoreUri): S3Location {
  if (!BUCKET.test(uri.authority) || uri.authority.includes('..')) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": "${uri.authority}" is not a valid bucket name (3-63 lower-case letters, digits, dots, hyphens)`);
  }
  const segments = uri.path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": "." and ".." segments are not allowed`);
  }
  return { bucket: uri.authority, prefix: segments.length === 0 ? '' : `${segments.join('/')}/` };
}

/** The object key for a store-relative path. */
export function objectKey(location: S3Location, path: string): string {
  return location.prefix + path;
}

/** The key prefix under which a directory's entries live ('' for the root of an unprefixed bucket). */
export function directoryPrefix(location: S3Location, path: string): string {
  return path === '' ? location.prefix : `${location.prefix}${path}/`;
}

/** An ETag without its quotes. */
export function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}
