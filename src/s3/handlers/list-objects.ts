import type { ServerResponse } from 'node:http';
import { isDoraError } from '../../common/errors.js';
import { compareKeys } from '../../ufs/ufs-path.js';
import type { FileStatus } from '../../worker/file-status.js';
import { isoDate, OWNER, objectEtag, type S3Context } from '../s3-context.js';
import { S3Error } from '../s3-error.js';
import type { S3Request } from '../s3-request.js';
import { sendXml } from '../s3-response.js';
import { S3_NAMESPACE, toXml } from '../s3-xml.js';
import { requireBucket } from './bucket-handlers.js';

export interface Listed {
  contents: FileStatus[];
  prefixes: string[];
  /** Key (or common prefix) to continue after, when truncated. */
  next: string | undefined;
}

/**
 * ListObjectsV2 (`list-type=2`) and ListObjects (v1) over the bucket's directory tree. With the
 * '/' delimiter a prefix's directory is listed one level (subdirectories are CommonPrefixes);
 * without one, recursively. Keys come in S3's byte order, so pages resume after a key.
 */
export async function listObjects(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const v2 = req.query.get('list-type') === '2';
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') ?? '';
  if (delimiter !== '' && delimiter !== '/') {
    throw new S3Error('NotImplemented', 501, `Delimiter ${JSON.stringify(delimiter)} is not supported: dora lists by "/"`);
  }
  const maxKeys = parseMaxKeys(req.query.get('max-keys'));
  const encode = req.query.get('encoding-type') === 'url';
  if (req.query.has('encoding-type') && !encode) throw new S3Error('InvalidArgument', 400, 'Invalid Encoding Method specified in Request');
  const token = req.query.get('continuation-token');
  const after = v2 ? (token !== null ? decodeToken(token) : req.query.get('start-after') ?? '') : req.query.get('marker') ?? '';
  const listed = maxKeys === 0 ? { contents: [], prefixes: [], next: undefined } : await collect(ctx, req.bucket, { prefix, delimiter, after, maxKeys });
  const e = (s: string): string => (encode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const base = (prefix: string): string => prefix.slice(req.bucket.length + 2);
  const contents = listed.contents.map((f) => ({
    Key: e(base(f.path)),
    LastModified: isoDate(f.mtimeMs),
    ETag: objectEtag(f),
    Size: f.size,
    StorageClass: 'STANDARD',
    ...(v2 && req.query.get('fetch-owner') !== 'true' ? {} : { Owner: OWNER }),
  }));
  const common = listed.prefixes.map((p) => ({ Prefix: e(p) }));
  const truncated = listed.next !== undefined;
  const body = v2
    ? {
        ListBucketResult: {
          '@_xmlns': S3_NAMESPACE,
          Name: req.bucket,
          Prefix: e(prefix),
          ...(token === null ? {} : { ContinuationToken: token }),
          ...(req.query.has('start-after') ? { StartAfter: e(req.query.get('start-after') ?? '') } : {}),
          KeyCount: contents.length + common.length,
          MaxKeys: maxKeys,
          ...(delimiter === '' ? {} : { Delimiter: e(delimiter) }),
          IsTruncated: truncated,
          ...(truncated ? { NextContinuationToken: encodeToken(listed.next ?? '') } : {}),
          ...(encode ? { EncodingType: 'url' } : {}),
          Contents: contents,
          CommonPrefixes: common,
        },
      }
    : {
        ListBucketResult: {
          '@_xmlns': S3_NAMESPACE,
          Name: req.bucket,
          Prefix: e(prefix),
          Marker: e(after),
          MaxKeys: maxKeys,
          ...(delimiter === '' ? {} : { Delimiter: e(delimiter) }),
          IsTruncated: truncated,
          ...(truncated && delimiter !== '' ? { NextMarker: e(listed.next ?? '') } : {}),
          ...(encode ? { EncodingType: 'url' } : {}),
          Contents: contents,
          CommonPrefixes: common,
        },
      };
  sendXml(res, 200, toXml(body));
}

/** Gathers up to maxKeys keys and common prefixes after `after`, paging through the worker. */
export async function collect(ctx: S3Context, bucket: string, q: { prefix: string; delimiter: string; after: string; maxKeys: number }): Promise<Listed> {
  const dirKey = q.prefix.slice(0, q.prefix.lastIndexOf('/') + 1); // the directory the prefix points into
  const dir = dirKey === '' ? `/${bucket}` : `/${bucket}/${dirKey.slice(0, -1)}`;
  const recursive = q.delimiter === '';
  const out: Listed = { contents: [], prefixes: [], next: undefined };
  let startAfter: string | undefined = compareKeys(q.after, dirKey) > 0 ? `/${bucket}/${q.after}` : undefined;
  for (;;) {
    let page: { entries: FileStatus[]; next?: string };
    try {
      page = await ctx.namespace.list(dir, { recursive, limit: 1000, ...(startAfter === undefined ? {} : { startAfter: afterToken(startAfter, recursive) }) });
    } catch (error) {
      if (isDoraError(error, 'NOT_FOUND') || isDoraError(error, 'NOT_A_DIRECTORY')) return out;
      throw error;
    }
    for (const entry of page.entries) {
      const key = entry.path.slice(bucket.length + 2) + (entry.kind === 'directory' ? '/' : '');
      if (!key.startsWith(q.prefix) || compareKeys(key, q.after) <= 0) continue;
      if (out.contents.length + out.prefixes.length === q.maxKeys) {
        out.next = lastKey(out);
        return out;
      }
      if (entry.kind === 'directory') out.prefixes.push(key);
      else out.contents.push(entry);
    }
    if (page.next === undefined) return out;
    startAfter = page.next;
  }
}

/** The worker's listing token for resuming after a dora path (directories sort after their contents). */
function afterToken(path: string, recursive: boolean): string {
  if (recursive || !path.endsWith('/')) return path;
  return `${path.slice(0, -1)}/\u{10FFFF}`;
}

function lastKey(listed: Listed): string {
  const file = listed.contents.at(-1);
  const fileKey = file === undefined ? '' : file.path.slice(file.path.indexOf('/', 1) + 1);
  const prefix = listed.prefixes.at(-1) ?? '';
  return compareKeys(fileKey, prefix) > 0 ? fileKey : prefix;
}

export function parseMaxKeys(value: string | null): number {
  if (value === null) return 1000;
  if (!/^\d+$/.test(value)) throw new S3Error('InvalidArgument', 400, 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: value });
  return Math.min(Number(value), 1000);
}

function encodeToken(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (encodeToken(key) !== token) throw new S3Error('InvalidArgument', 400, 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  return key;
}
