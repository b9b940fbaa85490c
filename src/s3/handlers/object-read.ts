import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { isDoraError } from '../../common/errors.js';
import type { FileStatus } from '../../worker/file-status.js';
import { httpDate, objectEtag, type S3Context } from '../s3-context.js';
import { metadataHeaders } from '../s3-object-attributes.js';
import { S3Error } from '../s3-error.js';
import { objectPath, type S3Request } from '../s3-request.js';
import { requireBucket } from './bucket-handlers.js';

/** response-* query parameters and the headers they override. */
const OVERRIDES: ReadonlyArray<[string, string]> = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

/** GetObject and HeadObject: conditional headers, a Range (one; suffix and open ranges), response overrides. */
export async function getObject(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const path = objectPath(req.bucket, req.key);
  const status = await objectStatus(ctx, path, req.key, { attributes: true });
  const etag = objectEtag(status);
  const headers: Record<string, string | number> = {
    etag,
    'last-modified': httpDate(status.mtimeMs),
    'accept-ranges': 'bytes',
    'content-type': status.contentType ?? DEFAULT_CONTENT_TYPE,
    ...metadataHeaders(status.metadata),
  };
  for (const [param, header] of OVERRIDES) {
    const value = req.query.get(param);
    if (value !== null) headers[header] = value;
  }
  const notModified = checkConditions(req, status, etag);
  if (notModified) {
    res.writeHead(304, { etag, 'last-modified': httpDate(status.mtimeMs) }).end();
    return;
  }
  const range = parseRange(req.headers.range, status.size);
  if (range === 'unsatisfiable') {
    throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', { RangeRequested: req.headers.range ?? '', ActualObjectSize: String(status.size) });
  }
  const [start, end] = range ?? [0, status.size];
  if (range !== undefined) headers['content-range'] = `bytes ${start}-${end - 1}/${status.size}`;
  headers['content-length'] = end - start;
  const code = range === undefined ? 200 : 206;
  if (req.method === 'HEAD' || end === start) {
    res.writeHead(code, headers).end();
    return;
  }
  const bytes = await ctx.namespace.read(path, { offset: start, length: end - start, version: status.version }); // never a mix of versions
  res.writeHead(code, headers);
  if (bytes instanceof Uint8Array) {
    res.end(bytes);
    return;
  }
  await pipeline(bytes, res);
}

/** What S3 answers for an object stored without a content type. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/** The object's status (with content type and metadata when `attributes`); NoSuchKey for a missing key or a directory. */
export async function objectStatus(ctx: S3Context, path: string, key: string, options: { attributes?: boolean } = {}): Promise<FileStatus> {
  try {
    const status = await ctx.namespace.stat(path, options);
    if (status.kind === 'file') return status;
  } catch (error) {
    if (!isDoraError(error, 'NOT_FOUND') && !isDoraError(error, 'NOT_A_DIRECTORY')) throw error;
  }
  throw new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key });
}

/** Applies If-Match / If-None-Match / If-(Un)Modified-Since as S3 does; true means 304 Not Modified. */
function checkConditions(req: S3Request, status: FileStatus, etag: string): boolean {
  const ifMatch = req.headers['if-match'];
  const ifNoneMatch = req.headers['if-none-match'];
  const modifiedSince = Date.parse(req.headers['if-modified-since'] ?? '');
  const unmodifiedSince = Date.parse(req.headers['if-unmodified-since'] ?? '');
  const mtime = Math.floor(status.mtimeMs / 1000) * 1000; // HTTP dates have whole seconds
  const matches = (header: string): boolean => etagMatches(header, etag);
  if (ifMatch !== undefined && !matches(ifMatch)) throw new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  if (ifMatch === undefined && !Number.isNaN(unmodifiedSince) && mtime > unmodifiedSince) {
    throw new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Unmodified-Since' });
  }
  if (ifNoneMatch !== undefined) return matches(ifNoneMatch);
  return !Number.isNaN(modifiedSince) && mtime <= modifiedSince;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → [start, end); undefined for no (or an ignorable) Range. */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined; // several ranges or another unit: S3 sends the whole object
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size];
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size : Math.min(size, Number(last) + 1);
  if (end <= start) return undefined; // last < first: invalid, ignored as S3 does
  return [start, end];
}

/** Whether an If-Match style header (a list of ETags, quoted or not, or `*`) names `etag` (quoted). */
export function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || `"${tag}"` === etag;
  });
}
