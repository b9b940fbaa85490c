import type { ServerResponse } from 'node:http';
import { isDoraError } from '../../common/errors.js';
import type { FileStatus } from '../../worker/file-status.js';
import { isoDate, OWNER, type S3Context } from '../s3-context.js';
import { S3Error } from '../s3-error.js';
import { checkBucketName, type S3Request } from '../s3-request.js';
import { S3_NAMESPACE, toXml } from '../s3-xml.js';
import { sendXml } from '../s3-response.js';

/** The bucket's directory status; NoSuchBucket when there is none. */
export async function requireBucket(ctx: S3Context, bucket: string): Promise<FileStatus> {
  checkBucketName(bucket);
  try {
    const status = await ctx.namespace.stat(`/${bucket}`);
    if (status.kind === 'directory') return status;
  } catch (error) {
    if (!isDoraError(error, 'NOT_FOUND')) throw error;
  }
  throw new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket });
}

/** ListBuckets: every top-level directory of the namespace. */
export async function listBuckets(_req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  const buckets: Array<{ Name: string; CreationDate: string }> = [];
  let startAfter: string | undefined;
  do {
    const page = await ctx.namespace.list('/', { limit: 1000, ...(startAfter === undefined ? {} : { startAfter }) });
    for (const e of page.entries) if (e.kind === 'directory') buckets.push({ Name: e.name, CreationDate: isoDate(e.mtimeMs) });
    startAfter = page.next;
  } while (startAfter !== undefined);
  sendXml(res, 200, toXml({ ListAllMyBucketsResult: { '@_xmlns': S3_NAMESPACE, Owner: OWNER, Buckets: { Bucket: buckets } } }));
}

/** CreateBucket: a new top-level directory. */
export async function createBucket(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  checkBucketName(req.bucket);
  const exists = await requireBucket(ctx, req.bucket).then(() => true, () => false);
  if (exists) throw new S3Error('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: req.bucket });
  await ctx.namespace.mkdir(`/${req.bucket}`);
  res.writeHead(200, { location: `/${req.bucket}`, 'content-length': 0 }).end();
}

export async function headBucket(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  res.writeHead(200, { 'x-amz-bucket-region': ctx.region, 'content-length': 0 }).end();
}

/** DeleteBucket: only an empty one (BucketNotEmpty otherwise). */
export async function deleteBucket(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const page = await ctx.namespace.list(`/${req.bucket}`, { limit: 1 });
  if (page.entries.length > 0) throw new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', { BucketName: req.bucket });
  await ctx.namespace.delete(`/${req.bucket}`);
  res.writeHead(204).end();
}

export async function getBucketLocation(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const constraint = ctx.region === 'us-east-1' ? '' : ctx.region; // us-east-1 is the empty constraint, as on AWS
  sendXml(res, 200, toXml({ LocationConstraint: { '@_xmlns': S3_NAMESPACE, '#text': constraint } }));
}
