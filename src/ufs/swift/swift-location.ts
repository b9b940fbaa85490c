import { createHash } from 'node:crypto';
import { DoraError } from '../../common/errors.js';
import type { StoreUri } from '../../common/store-uri.js';

/** Where a store root is in Swift: a container, an object-name prefix ('' or ending in '/'), and where segments go. */
export interface SwiftLocation {
  readonly container: string;
  readonly prefix: string;
  /** The container that holds the segments of static large objects. */
  readonly segmentContainer: string;
}

/** Swift's default `max_container_name_length` and `max_object_name_length`. */
const MAX_CONTAINER_BYTES = 256;
const MAX_OBJECT_BYTES = 1024;

/**
 * `swift://container/some/prefix` → { container, prefix: 'some/prefix/', segmentContainer:
 * 'container_segments' } (python-swiftclient's and rclone's convention). Throws INVALID_ARGUMENT.
 */
export function swiftLocation(uri: StoreUri, segmentContainer?: string): SwiftLocation {
  let container: string;
  try {
    container = decodeURIComponent(uri.authority);
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": malformed percent-encoding in the container name`, { cause: error });
  }
  checkContainer(uri.text, container);
  const segments = uri.path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": "." and ".." segments are not allowed`);
  }
  const segmentsAt = segmentContainer ?? `${container}_segments`;
  checkContainer(uri.text, segmentsAt);
  if (segmentsAt === container) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri.text}": segmentContainer must differ from the container, or segments would show in listings`);
  }
  return { container, prefix: segments.length === 0 ? '' : `${segments.join('/')}/`, segmentContainer: segmentsAt };
}

function checkContainer(uri: string, name: string): void {
  if (name === '' || name.includes('/') || Buffer.byteLength(name) > MAX_CONTAINER_BYTES) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri}": ${JSON.stringify(name)} is not a valid container name (1-${MAX_CONTAINER_BYTES} bytes, no "/")`);
  }
}

/**
 * Where the segments of one upload of `name` go in the segment container:
 * `<name>/<uploadId>/`, or `.dora-long-names/<sha256 of name>/<uploadId>/` when that would
 * pass Swift's limit on object names.
 */
export function segmentPrefix(name: string, uploadId: string): string {
  const plain = `${name}/${uploadId}/`;
  if (Buffer.byteLength(plain) + 16 <= MAX_OBJECT_BYTES) return plain;
  return `.dora-long-names/${createHash('sha256').update(name).digest('hex')}/${uploadId}/`;
}

/** The URL path of a container or object below the storage URL: each name percent-encoded, '/' kept. */
export function encodeName(name: string): string {
  return encodeURIComponent(name).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%2F/g, '/');
}
