import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { openPayloadBody } from '../auth/open-payload-body.js';
import type { PartInfo } from '../multipart/multipart-store.js';
import { isoDate, OWNER, quotedEtag, type S3Context } from '../s3-context.js';
import { S3Error } from '../s3-error.js';
import { header, objectPath, type S3Request } from '../s3-request.js';
import { sendXml } from '../s3-response.js';
import { readRequestBody } from '../read-request-body.js';
import { requestAttributes } from '../s3-object-attributes.js';
import { parseTaggingHeader } from '../s3-tags.js';
import { fromXml, S3_NAMESPACE, toXml } from '../s3-xml.js';
import { requireBucket } from './bucket-handlers.js';
import { objectStatus, parseRange } from './object-read.js';

const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_BYTES = 5 * 1024 ** 3;

function store(ctx: S3Context) {
  if (ctx.multipart === undefined) throw new S3Error('NotImplemented', 501, 'Multipart uploads are not enabled on this server');
  return ctx.multipart;
}

/** CreateMultipartUpload (`POST /bucket/key?uploads`). */
export async function createMultipartUpload(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  objectPath(req.bucket, req.key); // refuse a bad key now, not at completion
  const attributes = requestAttributes(req.headers);
  const tags = parseTaggingHeader(header(req, 'x-amz-tagging'));
  const upload = await store(ctx).create(req.bucket, req.key, { ...attributes, ...(tags === undefined ? {} : { tags }) });
  sendXml(res, 200, toXml({ InitiateMultipartUploadResult: { '@_xmlns': S3_NAMESPACE, Bucket: req.bucket, Key: req.key, UploadId: upload.uploadId } }));
}

/** UploadPart (`PUT ?partNumber&uploadId`), and UploadPartCopy when `x-amz-copy-source` is set. */
export async function uploadPart(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  const upload = await store(ctx).get(req.query.get('uploadId') ?? '', req.bucket, req.key);
  const partNumber = Number(req.query.get('partNumber'));
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
    throw new S3Error('InvalidArgument', 400, 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber' });
  }
  const copySource = header(req, 'x-amz-copy-source');
  if (copySource !== undefined) {
    const part = await store(ctx).putPart(upload, partNumber, await copiedRange(req, ctx, copySource));
    sendXml(res, 200, toXml({ CopyPartResult: { '@_xmlns': S3_NAMESPACE, ETag: quotedEtag(part.etag), LastModified: isoDate(part.mtimeMs) } }));
    return;
  }
  const streaming = 'decodedContentLength' in req.payload ? req.payload.decodedContentLength : undefined;
  const length = streaming ?? Number(header(req, 'content-length') ?? NaN);
  if (!Number.isSafeInteger(length)) throw new S3Error('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.');
  if (length > MAX_PART_BYTES) throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed object size.');
  const body = openPayloadBody(req.raw as AsyncIterable<Uint8Array>, req.payload, streaming === undefined ? { contentLength: length } : {});
  const part = await store(ctx).putPart(upload, partNumber, counted(body, length));
  res.writeHead(200, { etag: quotedEtag(part.etag), 'content-length': 0 }).end();
}

/** ListParts (`GET /bucket/key?uploadId`). */
export async function listParts(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  const upload = await store(ctx).get(req.query.get('uploadId') ?? '', req.bucket, req.key);
  const marker = Number(req.query.get('part-number-marker') ?? 0);
  const max = Math.min(Number(req.query.get('max-parts') ?? 1000), 1000);
  const all = (await store(ctx).parts(upload)).filter((p) => p.partNumber > marker);
  const parts = all.slice(0, max);
  const truncated = all.length > parts.length;
  sendXml(res, 200, toXml({
    ListPartsResult: {
      '@_xmlns': S3_NAMESPACE,
      Bucket: req.bucket,
      Key: req.key,
      UploadId: upload.uploadId,
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: 'STANDARD',
      PartNumberMarker: marker,
      ...(truncated ? { NextPartNumberMarker: parts.at(-1)?.partNumber ?? 0 } : {}),
      MaxParts: max,
      IsTruncated: truncated,
      Part: parts.map((p) => ({ PartNumber: p.partNumber, LastModified: isoDate(p.mtimeMs), ETag: quotedEtag(p.etag), Size: p.size })),
    },
  }));
}

/** ListMultipartUploads (`GET /bucket?uploads`). */
export async function listMultipartUploads(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  await requireBucket(ctx, req.bucket);
  const prefix = req.query.get('prefix') ?? '';
  const uploads = (await store(ctx).uploads()).filter((u) => u.bucket === req.bucket && u.key.startsWith(prefix));
  sendXml(res, 200, toXml({
    ListMultipartUploadsResult: {
      '@_xmlns': S3_NAMESPACE,
      Bucket: req.bucket,
      Prefix: prefix,
      KeyMarker: '',
      UploadIdMarker: '',
      MaxUploads: 1000,
      IsTruncated: false,
      Upload: uploads.slice(0, 1000).map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiator: OWNER, Owner: OWNER, StorageClass: 'STANDARD', Initiated: isoDate(u.initiatedMs) })),
    },
  }));
}

/**
 * CompleteMultipartUpload (`POST /bucket/key?uploadId`): checks the list (InvalidPart,
 * InvalidPartOrder, EntityTooSmall), streams the parts in order to the store, and answers the
 * ETag S3 gives a multipart object: the MD5 of the parts' MD5s, dash, the part count.
 */
export async function completeMultipartUpload(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  const multipart = store(ctx);
  const upload = await multipart.get(req.query.get('uploadId') ?? '', req.bucket, req.key);
  const requested = await requestedParts(req);
  const stored = new Map((await multipart.parts(upload)).map((p) => [p.partNumber, p]));
  const parts: PartInfo[] = [];
  for (const [i, want] of requested.entries()) {
    if (i > 0 && want.partNumber <= (requested[i - 1]?.partNumber ?? 0)) throw new S3Error('InvalidPartOrder', 400, 'The list of parts was not in ascending order. Parts must be ordered by part number.');
    const part = stored.get(want.partNumber);
    if (part === undefined || want.etag.replace(/"/g, '') !== part.etag) {
      throw new S3Error('InvalidPart', 400, 'One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part\'s entity tag.', { PartNumber: String(want.partNumber) });
    }
    parts.push(part);
  }
  for (const part of parts.slice(0, -1)) {
    if (part.size < MIN_PART_BYTES) throw new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.', { PartNumber: String(part.partNumber) });
  }
  const size = parts.reduce((sum, p) => sum + p.size, 0);
  await ctx.namespace.write(objectPath(req.bucket, req.key), multipart.read(upload, parts), { size, ...upload.attributes });
  await multipart.remove(upload.uploadId);
  const md5s = createHash('md5');
  for (const part of parts) md5s.update(Buffer.from(part.etag, 'hex'));
  const etag = `${md5s.digest('hex')}-${parts.length}`;
  sendXml(res, 200, toXml({ CompleteMultipartUploadResult: { '@_xmlns': S3_NAMESPACE, Location: `/${req.bucket}/${req.key}`, Bucket: req.bucket, Key: req.key, ETag: quotedEtag(etag) } }));
}

/** AbortMultipartUpload (`DELETE /bucket/key?uploadId`). */
export async function abortMultipartUpload(req: S3Request, res: ServerResponse, ctx: S3Context): Promise<void> {
  const upload = await store(ctx).get(req.query.get('uploadId') ?? '', req.bucket, req.key);
  await store(ctx).remove(upload.uploadId);
  res.writeHead(204).end();
}

async function requestedParts(req: S3Request): Promise<Array<{ partNumber: number; etag: string }>> {
  const malformed = (): S3Error => new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema.');
  const body = await readRequestBody(req, 4 * 1024 * 1024);
  let doc: Record<string, unknown>;
  try {
    doc = fromXml(body.toString('utf8'));
  } catch {
    throw malformed();
  }
  const root = doc['CompleteMultipartUpload'] as Record<string, unknown> | undefined;
  const list = root?.['Part'];
  const parts = list === undefined ? [] : Array.isArray(list) ? list : [list];
  if (parts.length === 0) throw malformed();
  return parts.map((p: unknown) => {
    const r = p as Record<string, unknown>;
    const partNumber = Number(r['PartNumber']);
    if (!Number.isInteger(partNumber) || typeof r['ETag'] !== 'string') throw malformed();
    return { partNumber, etag: r['ETag'] };
  });
}

/** The bytes of `x-amz-copy-source` (optionally `x-amz-copy-source-range: bytes=a-b`) for UploadPartCopy. */
async function copiedRange(req: S3Request, ctx: S3Context, source: string): Promise<AsyncIterable<Uint8Array>> {
  const decoded = decodeURIComponent(source.split('?')[0] ?? '').replace(/^\//, '');
  const slash = decoded.indexOf('/');
  if (slash <= 0) throw new S3Error('InvalidArgument', 400, 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  const bucket = decoded.slice(0, slash);
  const key = decoded.slice(slash + 1);
  if (req.accessKeyId !== undefined) ctx.credentials?.authorize(req.accessKeyId, bucket, 'read');
  await requireBucket(ctx, bucket);
  const path = objectPath(bucket, key);
  const status = await objectStatus(ctx, path, key);
  const rangeHeader = header(req, 'x-amz-copy-source-range');
  const range = parseRange(rangeHeader, status.size);
  if (range === 'unsatisfiable' || (rangeHeader !== undefined && range === undefined)) {
    throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable');
  }
  const [start, end] = range ?? [0, status.size];
  const bytes = await ctx.namespace.read(path, { offset: start, length: end - start, version: status.version });
  if (!(bytes instanceof Uint8Array)) return bytes;
  return (async function* () {
    yield bytes;
  })();
}

/** Passes a body through, failing when it is longer or shorter than its declared length. */
async function* counted(body: AsyncIterable<Uint8Array>, length: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.byteLength;
    if (seen > length) throw new S3Error('IncompleteBody', 400, 'The request body is longer than its declared length.');
    yield chunk;
  }
  if (seen !== length) throw new S3Error('IncompleteBody', 400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
}
