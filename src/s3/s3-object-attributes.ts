import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './s3-error.js';

/** S3's limit on user metadata: names and values together, in UTF-8 bytes. */
const MAX_METADATA_BYTES = 2 * 1024;
const META_PREFIX = 'x-amz-meta-';

/** What S3 keeps with an object besides its bytes. */
export interface ObjectAttributes {
  readonly contentType?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Content-Type and `x-amz-meta-*` of a request. Header bytes arrive as Latin-1; clients send UTF-8
 * in them, so values that are valid UTF-8 are read as such. Throws MetadataTooLarge.
 */
export function requestAttributes(headers: IncomingHttpHeaders): ObjectAttributes {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, raw] of Object.entries(headers)) {
    if (!name.startsWith(META_PREFIX) || raw === undefined) continue;
    const key = name.slice(META_PREFIX.length);
    const value = fromHeader(Array.isArray(raw) ? raw.join(',') : raw);
    metadata[key] = value;
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size.', { Size: String(bytes), MaxSizeAllowed: String(MAX_METADATA_BYTES) });
  }
  const contentType = headers['content-type'];
  return { ...(contentType === undefined || contentType === '' ? {} : { contentType }), metadata };
}

/** Response headers for user metadata; non-ASCII values RFC 2047-encoded, as S3 sends them. */
export function metadataHeaders(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    headers[META_PREFIX + key] = /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value).toString('base64')}?=`;
  }
  return headers;
}

function fromHeader(value: string): string {
  const bytes = Buffer.from(value, 'latin1');
  const utf8 = bytes.toString('utf8');
  return Buffer.from(utf8).equals(bytes) ? utf8 : value;
}
