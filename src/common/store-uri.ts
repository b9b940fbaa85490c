import { DoraError } from './errors.js';

/** A store URI taken apart: `s3://bucket/sales/` → scheme 's3', authority 'bucket', path 'sales/'. */
export interface StoreUri {
  /** Lower-case scheme without '://'. */
  readonly scheme: string;
  /** Bucket, container or host; '' for `file:///...`. */
  readonly authority: string;
  /** Decoded path after the authority, without the leading '/'. */
  readonly path: string;
  /** The URI as given, trimmed. */
  readonly text: string;
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?$/;

/** Parses `scheme://authority/path`. Throws INVALID_ARGUMENT for anything else. */
export function parseStoreUri(text: string): StoreUri {
  const trimmed = text.trim();
  const match = SCHEME.exec(trimmed);
  if (match === null) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI ${JSON.stringify(text)}: expected scheme://authority/path, e.g. s3://bucket/prefix or file:///srv/data`);
  }
  const [, scheme = '', authority = '', rawPath = ''] = match;
  let path: string;
  try {
    path = decodeURIComponent(rawPath.replace(/^\//, ''));
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI ${JSON.stringify(text)}: malformed percent-encoding`, { cause: error });
  }
  if (path.includes('\0')) throw new DoraError('INVALID_ARGUMENT', `Invalid store URI ${JSON.stringify(text)}: NUL characters are not allowed`);
  return { scheme: scheme.toLowerCase(), authority, path, text: trimmed };
}
