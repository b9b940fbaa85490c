import type { Readable } from 'node:stream';
import type { DoraError } from '../../common/errors.js';
import { compareKeys } from '../ufs-path.js';
import type { ObjectClient, ObjectGetResult, ObjectInfo, ObjectListPage, ObjectWriteFields, ObjectWritten } from '../object/object-client.js';
import type { GcsApi, GcsObject } from './gcs-api.js';
import { ChunkReader } from '../../common/chunk-reader.js';
import { GcsHttpError, fromGcsError, httpStatusOf } from './gcs-errors.js';
import { uploadResumable } from './gcs-resumable.js';

/** When an object goes in one request and when through a resumable session. */
export interface GcsUploadTuning {
  /** Objects of known size up to this many bytes go in one request. */
  readonly multipartThreshold: number;
  /** Bytes per resumable chunk (a multiple of 256 KiB), and what an unsized stream is buffered up to. */
  readonly partSize: number;
}

/**
 * One Cloud Storage bucket as an `ObjectClient`: object names are keys, an object's generation
 * is its version, the hex of its `md5Hash` its ETag. Writes of known size up to the threshold
 * go in one request; larger ones, and streams of unknown size that outgrow one chunk, go through
 * a resumable upload session. Nothing here retries.
 */
export class GcsClient implements ObjectClient {
  readonly #api: GcsApi;
  readonly #bucket: string;
  readonly #tuning: GcsUploadTuning;

  constructor(api: GcsApi, bucket: string, tuning: GcsUploadTuning) {
    this.#api = api;
    this.#bucket = bucket;
    this.#tuning = tuning;
  }

  async head(key: string, signal: AbortSignal | undefined): Promise<ObjectInfo | undefined> {
    try {
      return info(await this.#api.get(this.#bucket, key, signal), true);
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async get(key: string, range: { offset: number; length?: number | undefined }, ifMatch: string | undefined, signal: AbortSignal | undefined): Promise<ObjectGetResult> {
    // A generation is a decimal number; any other version cannot be this object's.
    if (ifMatch !== undefined && !/^\d+$/.test(ifMatch)) throw GcsHttpError.of(412, `version ${JSON.stringify(ifMatch)} is not a generation`);
    const { offset, length } = range;
    const header = length === undefined ? (offset === 0 ? undefined : `bytes=${offset}-`) : `bytes=${offset}-${offset + length - 1}`;
    const got = await this.#api.download(this.#bucket, key, { range: header, ifGenerationMatch: ifMatch }, signal);
    return { ...info(got, false), body: got.body, totalSize: got.size };
  }

  async put(key: string, body: Uint8Array | Readable, fields: ObjectWriteFields & { size?: number | undefined }, signal: AbortSignal | undefined): Promise<ObjectWritten> {
    const { multipartThreshold, partSize } = this.#tuning;
    const size = body instanceof Uint8Array ? body.byteLength : fields.size;
    const upload = { bucket: this.#bucket, name: key, fields: { contentType: fields.contentType, metadata: fields.metadata }, size, partSize };
    if (size !== undefined && size <= multipartThreshold) return written(await this.#api.insert(this.#bucket, key, body, { ...upload.fields, size }, signal));
    // Large or unsized: read the first chunk; a stream that ends within it goes in one request after all.
    const reader = new ChunkReader(body);
    const buffer = new Uint8Array(partSize);
    let used: number;
    try {
      used = await reader.fill(buffer, 0, signal);
    } catch (error) {
      await reader.close().catch(() => undefined);
      throw error;
    }
    if (reader.ended) return written(await this.#api.insert(this.#bucket, key, buffer.subarray(0, used), { ...upload.fields, size: used }, signal));
    return written(await uploadResumable(this.#api, upload, { reader, buffer, used }, signal));
  }

  async delete(key: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#api.delete(this.#bucket, key, signal);
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error; // deleting nothing succeeds
    }
  }

  async list(
    prefix: string,
    page: { delimiter?: '/' | undefined; startAfter?: string | undefined; token?: string | undefined; maxKeys: number },
    signal: AbortSignal | undefined,
  ): Promise<ObjectListPage> {
    const { startAfter } = page;
    const got = await this.#api.list(
      this.#bucket,
      // startOffset is inclusive: the key itself, and a prefix equal to it, are dropped below.
      { prefix, delimiter: page.delimiter, startOffset: page.token === undefined ? startAfter : undefined, pageToken: page.token, maxResults: page.maxKeys },
      signal,
    );
    const after = (key: string): boolean => startAfter === undefined || page.token !== undefined || compareKeys(key, startAfter) > 0;
    return {
      objects: got.objects.filter((o) => after(o.name)).map((o) => info(o, false)),
      prefixes: got.prefixes.filter(after),
      nextToken: got.nextPageToken,
    };
  }

  translate(error: unknown, attempt: string): DoraError {
    return fromGcsError(error, attempt);
  }

  close(): Promise<void> {
    return this.#api.destroy();
  }
}

function info(object: GcsObject, withAttributes: boolean): ObjectInfo {
  return {
    key: object.name,
    size: object.size,
    mtimeMs: object.mtimeMs,
    version: object.generation,
    etag: object.md5,
    ...(withAttributes ? { contentType: object.contentType, metadata: object.metadata ?? {} } : {}),
  };
}

function written(object: GcsObject): ObjectWritten {
  return { version: object.generation, etag: object.md5, mtimeMs: object.mtimeMs };
}
