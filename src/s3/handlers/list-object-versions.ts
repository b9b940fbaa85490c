import type { ServerResponse } from 'node:http';
import { isoDate, OWNER, objectEtag, type S3Context } from '../s3-context.js';
import { S3Error } from '../s3-error.js';
import type { S3Request } from '../s3-request.js';
import { sendXml } from '../s3-response.js';
import { S3_NAMESPACE, toXml } from '../s3-xml.js';
import { requireBucket } from './bucket-handlers.js';
import { collect, parseMaxKeys } from './list-objects.js';

/**
 * ListObjectVersions (`GET /bucket?versions`): dora keeps one version of each object, so every key
 * is listed once with the version id `null`, latest, as S3 answers for an unversioned bucket
 * (clients list versions to empty a bucket).
 */
export async function listObjectVersions(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') ?? '';
  if (delimiter !== '' && delimiter !== '/') throw new S3Error('NotImplemented', 501, `Delimiter ${JSON.stringify(delimiter)} is not supported: dora lists by "/"`);
  const maxKeys = parseMaxKeys(req.query.get('max-keys'));
  const keyMarker = req.query.get('key-marker') ?? '';
  const listed = maxKeys === 0 ? { contents: [], prefixes: [], next: undefined } : await collect(ctx, req.bucket, { prefix, delimiter, after: keyMarker, maxKeys });
  const keyOf = (path: string): string => path.slice(req.bucket.length + 2);
  const truncated = listed.next !== undefined;
  sendXml(
    res,
    200,
    toXml({
      ListVersionsResult: {
        '@_xmlns': S3_NAMESPACE,
        Name: req.bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: req.query.get('version-id-marker') ?? '',
        MaxKeys: maxKeys,
        ...(delimiter === '' ? {} : { Delimiter: delimiter }),
        IsTruncated: truncated,
        ...(truncated ? { NextKeyMarker: listed.next ?? '', NextVersionIdMarker: 'null' } : {}),
        Version: listed.contents.map((f) => ({
          Key: keyOf(f.path),
          VersionId: 'null',
          IsLatest: true,
          LastModified: isoDate(f.mtimeMs),
          ETag: objectEtag(f),
          Size: f.size,
          Owner: OWNER,
          StorageClass: 'STANDARD',
        })),
        CommonPrefixes: listed.prefixes.map((p) => ({ Prefix: p })),
      },
    }),
  );
}
