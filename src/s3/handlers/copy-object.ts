import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isDoraError } from '../../common/errors.js';
import { isoDate, objectEtag, quotedEtag, type S3Context } from '../s3-context.js';
import { requestAttributes } from '../s3-object-attributes.js';
import { parseTaggingHeader } from '../s3-tags.js';
import { S3Error } from '../s3-error.js';
import { header, objectPath, type S3Request } from '../s3-request.js';
import { sendXml } from '../s3-response.js';
import { S3_NAMESPACE, toXml } from '../s3-xml.js';
import { requireBucket } from './bucket-handlers.js';
import { etagMatches, objectStatus } from './object-read.js';

/**
 * CopyObject (`PUT /bucket/key` with `x-amz-copy-source`): streams the source version through the
 * worker into the target, across mounts and stores alike, after the copy-source conditions hold.
 */
export async function copyObject(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const target = objectPath(req.bucket, req.key);
  const { bucket, key } = parseCopySource(header(req, 'x-amz-copy-source') ?? '');
  if (req.accessKeyId !== undefined) ctx.credentials?.authorize(req.accessKeyId, bucket, 'read');
  await requireBucket(ctx, bucket);
  const sourcePath = objectPath(bucket, key);
  const source = await objectStatus(ctx, sourcePath, key, { attributes: true });
  const directive = header(req, 'x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new S3Error('InvalidArgument', 400, 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive' });
  const taggingDirective = header(req, 'x-amz-tagging-directive') ?? 'COPY';
  if (taggingDirective !== 'COPY' && taggingDirective !== 'REPLACE') throw new S3Error('InvalidArgument', 400, 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive' });
  if (sourcePath === target && directive === 'COPY') {
    throw new S3Error('InvalidRequest', 400, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }
  checkCopyConditions(req, objectEtag(source), source.mtimeMs);
  const attributes = directive === 'COPY' ? { contentType: source.contentType, metadata: source.metadata } : requestAttributes(req.headers);
  const tags = taggingDirective === 'COPY' ? await tagsOf(ctx, sourcePath) : (parseTaggingHeader(header(req, 'x-amz-tagging')) ?? {});
  const read = await ctx.namespace.read(sourcePath, { offset: 0, length: source.size, version: source.version });
  const md5 = createHash('md5');
  async function* body(): AsyncGenerator<Uint8Array> {
    const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = read instanceof Uint8Array ? [read] : read;
    for await (const chunk of chunks) {
      md5.update(chunk);
      yield chunk;
    }
  }
  const written = await ctx.namespace.write(target, body(), { size: source.size, ...attributes, tags });
  sendXml(res, 200, toXml({ CopyObjectResult: { '@_xmlns': S3_NAMESPACE, ETag: quotedEtag(md5.digest('hex')), LastModified: isoDate(written.mtimeMs) } }));
}

/** The source's tags to copy; none where its store keeps no tags. */
async function tagsOf(ctx: S3Context, path: string): Promise<Readonly<Record<string, string>> | undefined> {
  try {
    return await ctx.namespace.tags(path);
  } catch (error) {
    if (isDoraError(error, 'UNIMPLEMENTED')) return undefined;
    throw error;
  }
}

/** `/bucket/key` or `bucket/key`, URL-encoded, with an optional `?versionId=null`. */
function parseCopySource(value: string): { bucket: string; key: string } {
  const [path = '', query = ''] = value.split('?');
  const version = new URLSearchParams(query).get('versionId');
  if (version !== null && version !== 'null') throw new S3Error('NoSuchVersion', 404, 'The specified version does not exist.');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw new S3Error('InvalidArgument', 400, 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 400, 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

/** x-amz-copy-source-if-* as S3 applies them: any that fails is 412 PreconditionFailed. */
function checkCopyConditions(req: S3Request, etag: string, mtimeMs: number): void {
  const mtime = Math.floor(mtimeMs / 1000) * 1000;
  const ifMatch = header(req, 'x-amz-copy-source-if-match');
  const ifNoneMatch = header(req, 'x-amz-copy-source-if-none-match');
  const modifiedSince = Date.parse(header(req, 'x-amz-copy-source-if-modified-since') ?? '');
  const unmodifiedSince = Date.parse(header(req, 'x-amz-copy-source-if-unmodified-since') ?? '');
  const matches = (h: string): boolean => etagMatches(h, etag);
  const failed =
    (ifMatch !== undefined && !matches(ifMatch)) ||
    (ifNoneMatch !== undefined && matches(ifNoneMatch)) ||
    (ifMatch === undefined && !Number.isNaN(unmodifiedSince) && mtime > unmodifiedSince) ||
    (ifNoneMatch === undefined && !Number.isNaN(modifiedSince) && mtime <= modifiedSince);
  if (failed) throw new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', { Condition: 'x-amz-copy-source-If' });
}

