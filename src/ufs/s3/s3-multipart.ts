import { Readable } from 'node:stream';
import { DoraError } from '../../common/errors.js';
import { checkedChunks } from '../../common/streams.js';
import { abortedError, throwIfAborted } from '../../common/system-errors.js';
import type { UfsCallOptions, UfsMultipart, UfsPart, UfsStatus, UfsWriteOptions, UfsWriteSource } from '../under-file-system.js';
import { checkUfsPath } from '../ufs-path.js';
import type { S3Api } from './s3-api.js';
import { fromS3Error, httpStatusOf } from './s3-errors.js';
import { objectKey, type S3Location } from './s3-location.js';
import { fileStatus } from './s3-ufs.js';

/** S3's native multipart upload: each part streams straight to the store. */
export class S3Multipart implements UfsMultipart {
  readonly #api: S3Api;
  readonly #at: S3Location;
  readonly #uri: string;

  constructor(api: S3Api, location: S3Location, uri: string) {
    this.#api = api;
    this.#at = location;
    this.#uri = uri;
  }

  create(path: string, options: UfsWriteOptions = {}): Promise<string> {
    return this.#run(`Cannot start a multipart upload of "${this.#uri}${path}"`, path, options, (key, signal) =>
      this.#api.createMultipart(this.#at.bucket, key, options, signal),
    );
  }

  uploadPart(path: string, upload: { uploadId: string; partNumber: number }, source: UfsWriteSource, options: UfsWriteOptions = {}): Promise<UfsPart> {
    const attempt = `Cannot upload part ${upload.partNumber} of "${this.#uri}${path}"`;
    return this.#run(attempt, path, options, async (key, signal) => {
      if (!Number.isInteger(upload.partNumber) || upload.partNumber < 1 || upload.partNumber > 10_000) {
        throw new DoraError('INVALID_ARGUMENT', `${attempt}: part numbers run from 1 to 10000`);
      }
      const size = source instanceof Uint8Array ? source.byteLength : options.size;
      if (size === undefined) throw new DoraError('INVALID_ARGUMENT', `${attempt}: the part's size must be known`);
      const body = source instanceof Uint8Array ? source : Readable.from(checkedChunks(source, { size, attempt }));
      const etag = await this.#api.uploadPart(this.#at.bucket, key, { ...upload, size }, body, signal);
      return { partNumber: upload.partNumber, etag };
    });
  }

  complete(path: string, uploadId: string, parts: readonly UfsPart[], options: UfsCallOptions = {}): Promise<UfsStatus> {
    return this.#run(`Cannot complete the multipart upload of "${this.#uri}${path}"`, path, options, async (key, signal) => {
      const etag = await this.#api.completeMultipart(this.#at.bucket, key, uploadId, parts, signal);
      const head = await this.#api.head(this.#at.bucket, key, signal);
      return fileStatus(path, { ...head, etag: etag ?? head.etag });
    });
  }

  abort(path: string, uploadId: string, options: UfsCallOptions = {}): Promise<void> {
    return this.#run(`Cannot abort the multipart upload of "${this.#uri}${path}"`, path, options, async (key, signal) => {
      await this.#api.abortMultipart(this.#at.bucket, key, uploadId, signal).catch((error: unknown) => {
        if (httpStatusOf(error) !== 404) throw error; // already gone: aborting is idempotent
      });
    });
  }

  async #run<T>(attempt: string, path: string, options: UfsCallOptions, body: (key: string, signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    throwIfAborted(options.signal, attempt);
    try {
      checkUfsPath(this.#uri, path, { allowRoot: false });
      return await body(objectKey(this.#at, path), options.signal);
    } catch (error) {
      // An abort's own error says only "aborted"; the signal's reason says why (a deadline, a caller).
      if (options.signal?.aborted === true) throw abortedError(attempt, options.signal.reason);
      throw fromS3Error(error, attempt);
    }
  }
}
