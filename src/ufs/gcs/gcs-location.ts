import { DoraError } from '../../common/errors.js';
import type { StoreUri } from '../../common/store-uri.js';

/** Where a store root is in Cloud Storage: a bucket and an object-name prefix ('' or ending in '/'). */
export interface GcsLocation {
  readonly bucket: string;
  readonly prefix: string;
}

// Lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit; 3-63
// characters, or up to 222 when dotted with no dot-separated part over 63 (GCS's bucket rules).
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** `gs://bucket/some/prefix` → { bucket, prefix: 'some/prefix/' }. Throws INVALID_ARGUMENT. */
export function gcsLocation(uri: StoreUri): GcsLocation {
  const bucket = uri.authority;
  const parts = bucket.split('.');
  if (!BUCKET.test(bucket) || parts.some((p) => p === '' || p.length > 63) || (parts.length === 1 && bucket.length > 63)) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": "${bucket}" is not a valid bucket name (3-63 lower-case letters, digits, '-', '_', '.')`);
  }
  const segments = uri.path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": "." and ".." segments are not allowed`);
  }
  return { bucket, prefix: segments.length === 0 ? '' : `${segments.join('/')}/` };
}
