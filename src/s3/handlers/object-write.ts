import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { isDoraError } from '../../common/errors.js';
import { quotedEtag, type S3Context } from '../s3-context.js';
import { S3Error } from '../s3-error.js';
import { header, objectPath, type S3Request } from '../s3-request.js';
import { openPayloadBody } from '../auth/open-payload-body.js';
import { requestAttributes } from '../s3-object-attributes.js';
import { parseTaggingHeader } from '../s3-tags.js';
import { requireBucket } from './bucket-handlers.js';

/** S3's largest object. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

/**
 * PutObject: streams the body to the worker (never held whole), checking Content-MD5, a signed
 * x-amz-content-sha256, or an aws-chunked body's signatures and checksums before the object becomes
 * visible: a mismatch fails the write, so no partial or wrong object is ever stored. A key ending in
 * '/' with no body creates a directory.
 */
export async function putObject(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const path = objectPath(req.bucket, req.key);
  const streaming = 'decodedContentLength' in req.payload ? req.payload.decodedContentLength : undefined;
  const lengthHeader = header(req, 'content-length');
  if (streaming === undefined && lengthHeader === undefined) throw new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
  const size = streaming ?? Number(lengthHeader);
  if (!Number.isSafeInteger(size) || size < 0) throw new S3Error('InvalidArgument', 400, 'Content-Length must be a whole number', { ArgumentName: 'Content-Length' });
  if (size > MAX_OBJECT_BYTES) throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed object size.');
  if (req.key.endsWith('/') && size === 0) {
    await ctx.namespace.mkdir(path);
    res.writeHead(200, { etag: quotedEtag(createHash('md5').digest('hex')), 'content-length': 0 }).end();
    return;
  }
  const attributes = requestAttributes(req.headers);
  const tags = parseTaggingHeader(header(req, 'x-amz-tagging'));
  const expectedMd5 = header(req, 'content-md5');
  if (expectedMd5 !== undefined && Buffer.from(expectedMd5, 'base64').length !== 16) throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.');
  const md5 = createHash('md5');
  // Signatures, sha256 and aws-chunked framing are checked by the payload reader; Content-MD5 here.
  const body = openPayloadBody(req.raw as AsyncIterable<Uint8Array>, req.payload, streaming === undefined ? { contentLength: size } : {});
  async function* verified(): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      md5.update(chunk);
      yield chunk;
    }
    // Before the last byte is acknowledged, so a failed check leaves nothing in the store.
    if (expectedMd5 !== undefined && md5.copy().digest('base64') !== expectedMd5) {
      throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
    }
  }
  try {
    await ctx.namespace.write(path, verified(), { size, ...attributes, tags });
  } catch (error) {
    if (isDoraError(error, 'INVALID_ARGUMENT') && /declared|ended after/.test(error.message)) {
      throw new S3Error('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    }
    throw (error as { cause?: unknown }).cause instanceof S3Error ? (error as { cause: S3Error }).cause : error;
  }
  res.writeHead(200, { etag: quotedEtag(md5.digest('hex')), 'content-length': 0 }).end();
}

/** DeleteObject: idempotent; a key naming a directory with content is left alone, as S3 would find no such object. */
export async function deleteObject(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  await deleteKey(ctx, req.bucket, req.key, objectPath(req.bucket, req.key));
  res.writeHead(204).end();
}

/** Deletes one key (a file, or an empty directory for a key ending in '/'); nothing there is success. */
export async function deleteKey(ctx: S3Context, bucket: string, key: string, path: string): Promise<void> {
  try {
    const status = await ctx.namespace.stat(path);
    if (status.kind === 'file' || key.endsWith('/')) {
      await ctx.namespace.delete(path);
      await pruneEmptyParents(ctx, path, `/${bucket}`);
    }
  } catch (error) {
    if (!isDoraError(error, 'NOT_FOUND') && !isDoraError(error, 'DIRECTORY_NOT_EMPTY') && !isDoraError(error, 'NOT_A_DIRECTORY')) throw error;
  }
}

/**
 * In S3 a prefix exists only while keys are under it: after the last object under a directory
 * goes, the directories it leaves empty go too (up to the bucket), as they would in S3.
 */
async function pruneEmptyParents(ctx: S3Context, path: string, bucketPath: string): Promise<void> {
  for (let dir = path.slice(0, path.lastIndexOf('/')); dir.length > bucketPath.length; dir = dir.slice(0, dir.lastIndexOf('/'))) {
    const page = await ctx.namespace.list(dir, { limit: 1 }).catch(() => undefined);
    if (page === undefined || page.entries.length > 0) return;
    await ctx.namespace.delete(dir).catch(() => undefined);
  }
}
