import type { IncomingMessage } from 'node:http';
import type { RequestPayload } from './auth/request-payload.js';
import { S3Error } from './s3-error.js';

/** A request to the S3 API, path-style: `/bucket/key…?query`. */
export interface S3Request {
  readonly method: string;
  /** '' for the service (ListBuckets). */
  readonly bucket: string;
  /** '' for a bucket request. The decoded key, any UTF-8. */
  readonly key: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly raw: IncomingMessage;
  readonly requestId: string;
  /** Who signed the request; undefined for an anonymous one. */
  readonly accessKeyId: string | undefined;
  /** How the body must be read (see auth/open-payload-body.ts). */
  readonly payload: RequestPayload;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Splits a path-style request target. Throws S3Error for a malformed one. */
export function parseS3Target(target: string): { bucket: string; key: string; query: URLSearchParams } {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  const slash = path.indexOf('/', 1);
  const rawBucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
  const rawKey = slash < 0 ? '' : path.slice(slash + 1);
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(rawBucket);
    key = decodeURIComponent(rawKey);
  } catch {
    throw new S3Error('InvalidURI', 400, 'Couldn\'t parse the specified URI.');
  }
  return { bucket, key, query };
}

/** Bucket names follow S3's rules (3-63 lower-case letters, digits, dots, hyphens). */
export function checkBucketName(bucket: string): void {
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: bucket });
  }
}

/**
 * The dora path of an object. Keys are any UTF-8, but a key whose '/'-segments are empty, '.'
 * or '..' has no place in a file tree (and could climb out of its bucket): it is refused.
 */
export function objectPath(bucket: string, key: string): string {
  const segments = key.split('/');
  if (key.endsWith('/')) segments.pop(); // a directory marker names the directory
  if (key === '' || key.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new S3Error('InvalidArgument', 400, `Object key ${JSON.stringify(key)} cannot be stored: empty, "." and ".." path segments are not supported`, { Key: key });
  }
  return `/${bucket}/${segments.join('/')}`;
}

/** One request header's value (the first, if sent several times). */
export function header(req: { headers: IncomingMessage['headers'] }, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
