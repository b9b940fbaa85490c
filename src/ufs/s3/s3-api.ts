import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { unquote } from './s3-location.js';

/**
 * The slice of the S3 API dora uses, over AWS SDK v3: the one file that imports the SDK.
 * Methods throw the SDK's errors untranslated (see `fromS3Error`), and the SDK's own retries
 * are off: `withRetry` owns retrying, so attempts and backoff are bounded in one place.
 */
export interface S3ApiSettings {
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
  readonly profile?: string | undefined;
  readonly maxSockets: number;
}

export interface S3Object {
  readonly key: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly etag: string | undefined;
  /** Content type and user metadata: from HEAD and GET, not from listings. */
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** What a new object is written with. */
export interface S3ObjectFields {
  readonly contentType?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
}

export interface S3ListPage {
  readonly objects: readonly S3Object[];
  /** Common prefixes, each ending in the delimiter. */
  readonly prefixes: readonly string[];
  readonly nextToken: string | undefined;
}

export interface S3GetResult extends S3Object {
  readonly body: Readable;
  /** The whole object's size (from Content-Range when ranged). */
  readonly totalSize: number;
}

type Body = Uint8Array | Readable;

const ignore = (): void => undefined;
const SILENT = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

export class S3Api {
  readonly #client: S3Client;

  constructor(settings: S3ApiSettings) {
    const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets };
    this.#client = new S3Client({
      region: settings.region,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      ...(settings.credentials === undefined ? {} : { credentials: credentials(settings.credentials) }),
      ...(settings.profile === undefined ? {} : { profile: settings.profile }),
      forcePathStyle: settings.forcePathStyle,
      maxAttempts: 1,
      logger: SILENT, // failures surface as DoraErrors; the SDK need not print them too
      // S3-compatible stores differ in their support of the newer flexible checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: new NodeHttpHandler({
        connectionTimeout: 10_000,
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new HttpsAgent(agentOptions),
      }),
    });
  }

  async head(bucket: string, key: string, signal?: AbortSignal): Promise<S3Object> {
    const r = await this.#client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), sendOptions(signal));
    return { key, size: r.ContentLength ?? 0, mtimeMs: r.LastModified?.getTime() ?? 0, etag: unquote(r.ETag), contentType: r.ContentType, metadata: r.Metadata ?? {} };
  }

  async get(bucket: string, key: string, options: { range?: string | undefined; ifMatch?: string | undefined }, signal?: AbortSignal): Promise<S3GetResult> {
    const r = await this.#client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: options.range, IfMatch: options.ifMatch === undefined ? undefined : `"${options.ifMatch}"` }),
      sendOptions(signal),
    );
    const size = r.ContentLength ?? 0;
    const total = /\/(\d+)$/.exec(r.ContentRange ?? '')?.[1];
    return {
      key,
      size,
      totalSize: total === undefined ? size : Number(total),
      mtimeMs: r.LastModified?.getTime() ?? 0,
      etag: unquote(r.ETag),
      body: r.Body as Readable,
    };
  }

  /** A single PUT of a body whose size is known. Returns the ETag. */
  async put(bucket: string, key: string, body: Body, options: S3ObjectFields & { size: number }, signal?: AbortSignal): Promise<string | undefined> {
    const r = await this.#client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: options.size, ...objectFields(options) }),
      sendOptions(signal),
    );
    return unquote(r.ETag);
  }

  /**
   * Uploads a body of any size in parts of `partSize`, `queueSize` at a time (so at most
   * partSize × queueSize bytes are buffered), aborting the upload on failure. Returns the ETag.
   */
  async upload(
    bucket: string,
    key: string,
    body: Readable,
    options: S3ObjectFields & { partSize: number; queueSize: number },
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: bucket, Key: key, Body: body, ...objectFields(options) },
      partSize: options.partSize,
      queueSize: options.queueSize,
      leavePartsOnError: false,
    });
    const onAbort = (): void => void upload.abort().catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await upload.done();
      return unquote(r.ETag);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async list(
    bucket: string,
    options: { prefix: string; delimiter?: string | undefined; startAfter?: string | undefined; token?: string | undefined; maxKeys?: number },
    signal?: AbortSignal,
  ): Promise<S3ListPage> {
    const r = await this.#client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: options.prefix,
        Delimiter: options.delimiter,
        StartAfter: options.startAfter,
        ContinuationToken: options.token,
        MaxKeys: options.maxKeys,
      }),
      sendOptions(signal),
    );
    return {
      objects: (r.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0, etag: unquote(o.ETag) })),
      prefixes: (r.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      nextToken: r.IsTruncated === true ? r.NextContinuationToken : undefined,
    };
  }

  async delete(bucket: string, key: string, signal?: AbortSignal): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), sendOptions(signal));
  }

  async createBucket(bucket: string, signal?: AbortSignal): Promise<void> {
    await this.#client.send(new CreateBucketCommand({ Bucket: bucket }), sendOptions(signal));
  }

  async createMultipart(bucket: string, key: string, fields: S3ObjectFields, signal?: AbortSignal): Promise<string> {
    const r = await this.#client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...objectFields(fields) }), sendOptions(signal));
    return r.UploadId ?? '';
  }

  async uploadPart(bucket: string, key: string, part: { uploadId: string; partNumber: number; size: number }, body: Body, signal?: AbortSignal): Promise<string> {
    const r = await this.#client.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: part.uploadId, PartNumber: part.partNumber, Body: body, ContentLength: part.size }),
      sendOptions(signal),
    );
    return unquote(r.ETag) ?? '';
  }

  async completeMultipart(bucket: string, key: string, uploadId: string, parts: readonly { partNumber: number; etag: string }[], signal?: AbortSignal): Promise<string | undefined> {
    const r = await this.#client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
      }),
      sendOptions(signal),
    );
    return unquote(r.ETag);
  }

  async abortMultipart(bucket: string, key: string, uploadId: string, signal?: AbortSignal): Promise<void> {
    await this.#client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), sendOptions(signal));
  }

  /** The tags of an object, or of the bucket when `key` is undefined (none: an empty set). */
  async getTags(bucket: string, key: string | undefined, signal?: AbortSignal): Promise<Record<string, string>> {
    if (key !== undefined) {
      const r = await this.#client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }), sendOptions(signal));
      return fromTagSet(r.TagSet);
    }
    try {
      const r = await this.#client.send(new GetBucketTaggingCommand({ Bucket: bucket }), sendOptions(signal));
      return fromTagSet(r.TagSet);
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchTagSet') return {};
      throw error;
    }
  }

  /** Replaces the tags of an object, or of the bucket when `key` is undefined; an empty set deletes them. */
  async putTags(bucket: string, key: string | undefined, tags: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
    const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    const options = sendOptions(signal);
    if (key === undefined) {
      if (TagSet.length === 0) await this.#client.send(new DeleteBucketTaggingCommand({ Bucket: bucket }), options);
      else await this.#client.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet } }), options);
    } else if (TagSet.length === 0) {
      await this.#client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: key }), options);
    } else {
      await this.#client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet } }), options);
    }
  }

  destroy(): void {
    this.#client.destroy();
  }
}

/** The SDK's fields for a new object's content type, metadata and tags. */
function objectFields(fields: S3ObjectFields): { ContentType?: string; Metadata?: Record<string, string>; Tagging?: string } {
  const tags = Object.entries(fields.tags ?? {});
  return {
    ...(fields.contentType === undefined ? {} : { ContentType: fields.contentType }),
    ...(fields.metadata === undefined || Object.keys(fields.metadata).length === 0 ? {} : { Metadata: { ...fields.metadata } }),
    ...(tags.length === 0 ? {} : { Tagging: new URLSearchParams(tags).toString() }),
  };
}

function fromTagSet(set: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined): Record<string, string> {
  return Object.fromEntries((set ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

function sendOptions(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

function credentials(c: NonNullable<S3ApiSettings['credentials']>): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken }) };
}
