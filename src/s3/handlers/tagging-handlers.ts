import type { ServerResponse } from 'node:http';
import { readRequestBody } from '../read-request-body.js';
import type { S3Context } from '../s3-context.js';
import { S3Error } from '../s3-error.js';
import { objectPath, type S3Request } from '../s3-request.js';
import { sendXml } from '../s3-response.js';
import { MAX_BUCKET_TAGS, MAX_OBJECT_TAGS, parseTaggingXml, taggingXml } from '../s3-tags.js';
import { requireBucket } from './bucket-handlers.js';
import { objectStatus } from './object-read.js';

/** A tag set's XML is small: S3 refuses bodies far past the largest set of 50 tags. */
const MAX_TAGGING_BYTES = 64 * 1024;

/** GetObjectTagging (`GET /bucket/key?tagging`). */
export async function getObjectTagging(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  const path = await taggedObject(req, ctx);
  sendXml(res, 200, taggingXml(await ctx.namespace.tags(path)));
}

/** PutObjectTagging (`PUT /bucket/key?tagging`): replaces the object's tags (at most 10). */
export async function putObjectTagging(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  const path = await taggedObject(req, ctx);
  const tags = parseTaggingXml((await readRequestBody(req, MAX_TAGGING_BYTES)).toString('utf8'), MAX_OBJECT_TAGS);
  await ctx.namespace.setTags(path, tags);
  res.writeHead(200, { 'content-length': 0 }).end();
}

/** DeleteObjectTagging (`DELETE /bucket/key?tagging`). */
export async function deleteObjectTagging(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await ctx.namespace.setTags(await taggedObject(req, ctx), {});
  res.writeHead(204).end();
}

/** GetBucketTagging (`GET /bucket?tagging`): NoSuchTagSet when the bucket has none. */
export async function getBucketTagging(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const tags = await ctx.namespace.tags(`/${req.bucket}`);
  if (Object.keys(tags).length === 0) throw new S3Error('NoSuchTagSet', 404, 'The TagSet does not exist', { BucketName: req.bucket });
  sendXml(res, 200, taggingXml(tags));
}

/** PutBucketTagging (`PUT /bucket?tagging`): replaces the bucket's tags (at most 50). */
export async function putBucketTagging(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const tags = parseTaggingXml((await readRequestBody(req, MAX_TAGGING_BYTES)).toString('utf8'), MAX_BUCKET_TAGS);
  await ctx.namespace.setTags(`/${req.bucket}`, tags);
  res.writeHead(204).end();
}

/** DeleteBucketTagging (`DELETE /bucket?tagging`). */
export async function deleteBucketTagging(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  await ctx.namespace.setTags(`/${req.bucket}`, {});
  res.writeHead(204).end();
}

/** The object's dora path, after checking that it exists (NoSuchKey). */
async function taggedObject(req: S3Request, ctx: S3Context): Promise<string> {
  await requireBucket(ctx, req.bucket);
  const path = objectPath(req.bucket, req.key);
  await objectStatus(ctx, path, req.key);
  return path;
}
