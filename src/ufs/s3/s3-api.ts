import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
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
    return { key, size: r.ContentLength ?? 0, mtimeMs: r.LastModified?.getTime() ?? 0, etag: unquote(r.ETag) };
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
  async put(bucket: string, key: string, body: Body, options: { size: number; contentType?: string | undefined }, signal?: AbortSignal): Promise<string | undefined> {
    const r = await this.#client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: options.size, ContentType: options.contentType }),
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
    options: { partSize: number; queueSize: number; contentType?: string | undefined },
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: options.contentType },
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

  async createMultipart(bucket: string, key: string, contentType: string | undefined, signal?: AbortSignal): Promise<string> {
    const r = await this.#client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }), sendOptions(signal));
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

  destroy(): void {
    this.#client.destroy();
  }
}

function sendOptions(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

function credentials(c: NonNullable<S3ApiSettings['credentials']>): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken === undefined ? {} : { sessionToken: c.sessionToken }) };
}
