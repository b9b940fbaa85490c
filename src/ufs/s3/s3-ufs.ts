import { Readable } from 'node:stream';
import { byteRange } from '../../common/byte-range.js';
import { DoraError } from '../../common/errors.js';
import { checkedChunks, emptyStream, translateStreamErrors } from '../../common/streams.js';
import type {
  UfsCallOptions,
  UfsCapabilities,
  UfsListOptions,
  UfsReadOptions,
  UfsReadResult,
  UfsStatus,
  UfsTagging,
  UfsTags,
  UfsWriteOptions,
  UfsWriteSource,
  UnderFileSystem,
} from '../under-file-system.js';
import type { UfsTuning } from '../ufs-registry.js';
import { listObjects } from '../object/object-list.js';
import { runUfsCall } from '../ufs-call.js';
import { checkUfsPath } from '../ufs-path.js';
import type { S3Api, S3Object } from './s3-api.js';
import { fromS3Error, httpStatusOf } from './s3-errors.js';
import { directoryPrefix, objectKey, type S3Location } from './s3-location.js';
import { S3Multipart } from './s3-multipart.js';

/**
 * `s3://` under storage for AWS S3 and every S3-compatible store. Directories are key
 * prefixes: one exists when a `dir/` marker object or any key below it exists. A file's
 * version is its ETag. Objects up to the multipart threshold go up in one PUT; larger or
 * unsized ones in parts, with at most partSize × uploadConcurrency bytes buffered.
 */
export class S3Ufs implements UnderFileSystem {
  readonly uri: string;
  readonly capabilities: UfsCapabilities;
  readonly multipart: S3Multipart;
  readonly tagging?: UfsTagging;
  readonly #api: S3Api;
  readonly #at: S3Location;
  readonly #tuning: UfsTuning;

  /** `tagging`: whether the store keeps object tags (Swift's s3api does not). */
  constructor(api: S3Api, location: S3Location, tuning: UfsTuning, features: { tagging: boolean } = { tagging: true }) {
    this.#api = api;
    this.#at = location;
    this.#tuning = tuning;
    this.uri = `s3://${location.bucket}/${location.prefix}`;
    this.multipart = new S3Multipart(api, location, this.uri);
    this.capabilities = { rename: false, multipart: true, tagging: features.tagging };
    if (features.tagging) this.tagging = { get: (path, options) => this.#getTags(path, options), put: (path, tags, options) => this.#putTags(path, tags, options) };
  }

  async stat(path: string, options: UfsCallOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot stat "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path);
      if (path !== '') {
        const found = await this.#head(path, signal);
        if (found !== undefined) return fileStatus(path, found);
      }
      // A directory when any key is below it. The root always is one, but listing it still
      // checks that the bucket exists and the store answers.
      const isDirectory = await this.#isDirectory(path, signal);
      if (path === '' || isDirectory) return { path, kind: 'directory', size: 0, mtimeMs: 0, version: '', attributes: { metadata: {} } };
      throw new DoraError('NOT_FOUND', `${attempt}: no such file or directory`);
    });
  }

  async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const attempt = `Cannot read "${this.uri}${path}" at offset ${options.offset ?? 0}`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      byteRange(Number.MAX_SAFE_INTEGER, options, attempt); // validates the numbers
      const offset = options.offset ?? 0;
      if (options.length === 0) return this.#emptyRead(path, offset, options, attempt, signal);
      const range = offset > 0 || options.length !== undefined ? `bytes=${offset}-${options.length === undefined ? '' : offset + options.length - 1}` : undefined;
      try {
        const got = await this.#api.get(this.#at.bucket, objectKey(this.#at, path), { range, ifMatch: options.expectVersion }, signal);
        const status = fileStatus(path, { ...got, size: got.totalSize });
        return { stream: translateStreamErrors(got.body, (error) => fromS3Error(error, attempt)), status };
      } catch (error) {
        const code = httpStatusOf(error);
        if (code === 416) return this.#emptyRead(path, offset, options, attempt, signal);
        if (code === 404 && (await this.#isDirectory(path, signal))) throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
        throw error;
      }
    });
  }

  async write(path: string, source: UfsWriteSource, options: UfsWriteOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot write "${this.uri}${path}"`;
    return this.#run(attempt, options, async (callerSignal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      const key = objectKey(this.#at, path);
      const size = source instanceof Uint8Array ? source.byteLength : options.size;
      const fields = this.capabilities.tagging ? options : { ...options, tags: undefined };
      let written = 0;
      let sourceError: unknown;
      // A failing source must abort the request: the SDK would otherwise wait for the bytes
      // the Content-Length promised.
      const stop = new AbortController();
      const signal = callerSignal === undefined ? stop.signal : AbortSignal.any([callerSignal, stop.signal]);
      const body = async function* (): AsyncGenerator<Uint8Array> {
        try {
          yield* checkedChunks(source instanceof Uint8Array ? [source] : source, { size, attempt, onBytes: (n) => (written = n) });
        } catch (error) {
          sourceError = error;
          stop.abort(error);
          throw error;
        }
      };
      const stream = (): Readable => Readable.from(body()).on('error', () => undefined); // reported as sourceError
      try {
        const etag =
          source instanceof Uint8Array
            ? await this.#api.put(this.#at.bucket, key, source, { ...fields, size: source.byteLength }, signal)
            : size !== undefined && size <= this.#tuning.multipartThreshold
              ? await this.#api.put(this.#at.bucket, key, stream(), { ...fields, size }, signal)
              : await this.#api.upload(this.#at.bucket, key, stream(), { ...fields, partSize: this.#tuning.partSize, queueSize: this.#tuning.uploadConcurrency }, signal);
        return fileStatus(path, { key, size: size ?? written, mtimeMs: Date.now(), etag, contentType: options.contentType, metadata: options.metadata ?? {} });
      } catch (error) {
        throw sourceError ?? error;
      }
    });
  }

  async delete(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot delete "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      if ((await this.#head(path, signal)) !== undefined) {
        await this.#api.delete(this.#at.bucket, objectKey(this.#at, path), signal);
        return;
      }
      const dir = directoryPrefix(this.#at, path);
      const page = await this.#api.list(this.#at.bucket, { prefix: dir, maxKeys: 2 }, signal);
      if (page.objects.some((o) => o.key !== dir)) throw new DoraError('DIRECTORY_NOT_EMPTY', `${attempt}: the directory is not empty`);
      if (page.objects.length > 0) await this.#api.delete(this.#at.bucket, dir, signal);
    });
  }

  list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    const source = { list: (prefix: string, page: { delimiter?: string | undefined; startAfter?: string | undefined; token?: string | undefined; maxKeys: number }, signal: AbortSignal | undefined) => this.#api.list(this.#at.bucket, { prefix, ...page }, signal), translate: fromS3Error };
    return listObjects(source, this.#at.prefix, path, { ...options, rootUri: this.uri, toStatus: fileStatus, isFile: async (p, signal) => (await this.#head(p, signal)) !== undefined });
  }

  async mkdir(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot create directory "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path);
      if (path === '') return;
      if ((await this.#head(path, signal)) !== undefined) throw new DoraError('ALREADY_EXISTS', `${attempt}: a file is in the way`);
      await this.#api.put(this.#at.bucket, directoryPrefix(this.#at, path), new Uint8Array(0), { size: 0 }, signal);
    });
  }

  async close(): Promise<void> {
    this.#api.destroy();
  }

  /** Tags of an object; of a directory, its `dir/` marker's; of a root at the bucket's top, the bucket's. */
  async #getTags(path: string, options: UfsCallOptions = {}): Promise<UfsTags> {
    const attempt = `Cannot read the tags of "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      const key = await this.#taggedKey(path, attempt, signal);
      if (key === undefined || (await this.#head(path, signal)) !== undefined) return this.#api.getTags(this.#at.bucket, key, signal);
      return this.#api.getTags(this.#at.bucket, key, signal).catch((error: unknown) => {
        if (httpStatusOf(error) === 404) return {}; // a directory without a marker has no tags
        throw error;
      });
    });
  }

  async #putTags(path: string, tags: UfsTags, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot set the tags of "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      const key = await this.#taggedKey(path, attempt, signal);
      if (key !== undefined && key.endsWith('/') && Object.keys(tags).length > 0) {
        await this.#api.put(this.#at.bucket, key, new Uint8Array(0), { size: 0, tags }, signal); // the marker carries them
        return;
      }
      await this.#api.putTags(this.#at.bucket, key, tags, signal).catch((error: unknown) => {
        if (httpStatusOf(error) !== 404 || key === undefined || !key.endsWith('/')) throw error; // no marker, no tags: done
      });
    });
  }

  /** The key whose tags stand for `path` (undefined: the bucket's own). Throws NOT_FOUND. */
  async #taggedKey(path: string, attempt: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    checkUfsPath(this.uri, path);
    if (path === '' && this.#at.prefix === '') return undefined;
    if (path !== '' && (await this.#head(path, signal)) !== undefined) return objectKey(this.#at, path);
    if (path !== '' && !(await this.#isDirectory(path, signal))) throw new DoraError('NOT_FOUND', `${attempt}: no such file or directory`);
    return directoryPrefix(this.#at, path);
  }

  /** The object at `path`, or undefined when there is none. */
  async #head(path: string, signal: AbortSignal | undefined): Promise<S3Object | undefined> {
    try {
      return await this.#api.head(this.#at.bucket, objectKey(this.#at, path), signal);
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async #isDirectory(path: string, signal: AbortSignal | undefined): Promise<boolean> {
    const page = await this.#api.list(this.#at.bucket, { prefix: directoryPrefix(this.#at, path), maxKeys: 1 }, signal);
    return page.objects.length > 0 || page.prefixes.length > 0;
  }

  /** A read of no bytes still checks that the file exists, has the version and reaches `offset`. */
  async #emptyRead(path: string, offset: number, options: UfsReadOptions, attempt: string, signal: AbortSignal | undefined): Promise<UfsReadResult> {
    const found = await this.#head(path, signal);
    if (found === undefined) {
      if (await this.#isDirectory(path, signal)) throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
      throw new DoraError('NOT_FOUND', `${attempt}: no such key`);
    }
    const status = fileStatus(path, found);
    if (options.expectVersion !== undefined && options.expectVersion !== status.version) {
      throw new DoraError('FAILED_PRECONDITION', `${attempt}: the object changed (version ${status.version}, expected ${options.expectVersion})`);
    }
    byteRange(status.size, { offset, length: 0 }, attempt);
    return { stream: emptyStream(), status };
  }

  #run<T>(attempt: string, options: UfsCallOptions, body: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    return runUfsCall(attempt, options, fromS3Error, body);
  }
}

/** The status of an object; its version is the ETag (or mtime and size where a store sends none). */
export function fileStatus(path: string, object: S3Object): UfsStatus {
  const version = object.etag ?? `${object.mtimeMs.toString(36)}-${object.size.toString(36)}`;
  const attributes = object.metadata === undefined ? undefined : { ...(object.contentType === undefined ? {} : { contentType: object.contentType }), metadata: object.metadata };
  return {
    path,
    kind: 'file',
    size: object.size,
    mtimeMs: object.mtimeMs,
    version,
    ...(object.etag === undefined ? {} : { etag: object.etag }),
    ...(attributes === undefined ? {} : { attributes }),
  };
}
