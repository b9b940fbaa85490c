import { Readable } from 'node:stream';
import { byteRange } from '../../common/byte-range.js';
import { DoraError } from '../../common/errors.js';
import { checkedChunks, emptyStream, translateStreamErrors } from '../../common/streams.js';
import type { UfsCallOptions, UfsCapabilities, UfsListOptions, UfsReadOptions, UfsReadResult, UfsStatus, UfsWriteOptions, UfsWriteSource, UnderFileSystem } from '../under-file-system.js';
import { runUfsCall } from '../ufs-call.js';
import { checkUfsPath } from '../ufs-path.js';
import type { ObjectClient, ObjectInfo } from './object-client.js';
import { listObjects } from './object-list.js';

const NO_CAPABILITIES: UfsCapabilities = Object.freeze({ rename: false, multipart: false, tagging: false });

/**
 * A file system over a flat object store (Azure Blob, Google Cloud Storage, OpenStack Swift):
 * a store root is a container and a key prefix. Directories are key prefixes: one exists when a
 * `dir/` marker object or any key below it exists. A file's version is what the client says
 * (an ETag, a generation). Everything store-specific is the `ObjectClient`'s.
 */
export class ObjectUfs implements UnderFileSystem {
  readonly uri: string;
  readonly capabilities = NO_CAPABILITIES;
  readonly #client: ObjectClient;
  readonly #prefix: string;

  /** `uri`: the root as users write it (ends in '/'); `prefix`: its key prefix ('' or ending in '/'). */
  constructor(client: ObjectClient, root: { uri: string; prefix: string }) {
    this.#client = client;
    this.uri = root.uri.endsWith('/') ? root.uri : `${root.uri}/`;
    this.#prefix = root.prefix;
  }

  async stat(path: string, options: UfsCallOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot stat "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path);
      if (path !== '') {
        const found = await this.#client.head(this.#key(path), signal);
        if (found !== undefined) return objectStatus(path, found);
      }
      // The root is always a directory, but listing it still checks that the container exists.
      if ((await this.#isDirectory(path, signal)) || path === '') return { path, kind: 'directory', size: 0, mtimeMs: 0, version: '', attributes: { metadata: {} } };
      throw new DoraError('NOT_FOUND', `${attempt}: no such file or directory`);
    });
  }

  async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const offset = options.offset ?? 0;
    const attempt = `Cannot read "${this.uri}${path}" at offset ${offset}`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      byteRange(Number.MAX_SAFE_INTEGER, options, attempt); // validates the numbers
      if (options.length === 0) return this.#emptyRead(path, offset, options, attempt, signal);
      let got;
      try {
        got = await this.#client.get(this.#key(path), { offset, length: options.length }, options.expectVersion, signal);
      } catch (error) {
        const code = this.#client.translate(error, attempt).code;
        if (code === 'OUT_OF_RANGE') return this.#emptyRead(path, offset, options, attempt, signal);
        if (code === 'NOT_FOUND' && (await this.#isDirectory(path, signal))) throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
        throw error;
      }
      const status = objectStatus(path, { ...got, size: got.totalSize });
      if (options.expectVersion !== undefined && status.version !== options.expectVersion) {
        got.body.destroy();
        throw changed(attempt, status.version, options.expectVersion);
      }
      return { stream: translateStreamErrors(got.body, (error) => this.#client.translate(error, attempt)), status };
    });
  }

  async write(path: string, source: UfsWriteSource, options: UfsWriteOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot write "${this.uri}${path}"`;
    return this.#run(attempt, options, async (callerSignal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      const size = source instanceof Uint8Array ? source.byteLength : options.size;
      const fields = { contentType: options.contentType, metadata: options.metadata, size };
      if (source instanceof Uint8Array) {
        const written = await this.#client.put(this.#key(path), source, fields, callerSignal);
        return writtenStatus(path, source.byteLength, written, options);
      }
      let bytes = 0;
      let sourceError: unknown;
      // A failing source must abort the request, which would otherwise wait for promised bytes.
      const stop = new AbortController();
      const signal = callerSignal === undefined ? stop.signal : AbortSignal.any([callerSignal, stop.signal]);
      const body = async function* (): AsyncGenerator<Uint8Array> {
        try {
          yield* checkedChunks(source, { size, attempt, onBytes: (n) => (bytes = n) });
        } catch (error) {
          sourceError = error;
          stop.abort(error);
          throw error;
        }
      };
      try {
        const written = await this.#client.put(this.#key(path), Readable.from(body()).on('error', () => undefined), fields, signal);
        return writtenStatus(path, size ?? bytes, written, options);
      } catch (error) {
        throw sourceError ?? error;
      }
    });
  }

  async delete(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot delete "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      if ((await this.#client.head(this.#key(path), signal)) !== undefined) {
        await this.#client.delete(this.#key(path), signal);
        return;
      }
      const dir = this.#dirPrefix(path);
      const page = await this.#client.list(dir, { maxKeys: 2 }, signal);
      if (page.objects.some((o) => o.key !== dir) || page.prefixes.length > 0) throw new DoraError('DIRECTORY_NOT_EMPTY', `${attempt}: the directory is not empty`);
      if (page.objects.length > 0) await this.#client.delete(dir, signal);
    });
  }

  list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    return listObjects(this.#client, this.#prefix, path, {
      ...options,
      rootUri: this.uri,
      toStatus: objectStatus,
      isFile: async (p, signal) => (await this.#client.head(this.#key(p), signal)) !== undefined,
    });
  }

  async mkdir(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot create directory "${this.uri}${path}"`;
    return this.#run(attempt, options, async (signal) => {
      checkUfsPath(this.uri, path);
      if (path === '') return;
      if ((await this.#client.head(this.#key(path), signal)) !== undefined) throw new DoraError('ALREADY_EXISTS', `${attempt}: a file is in the way`);
      await this.#client.put(this.#dirPrefix(path), new Uint8Array(0), { size: 0 }, signal);
    });
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  #key(path: string): string {
    return this.#prefix + path;
  }

  /** The key prefix under which a directory's entries live. */
  #dirPrefix(path: string): string {
    return path === '' ? this.#prefix : `${this.#prefix}${path}/`;
  }

  async #isDirectory(path: string, signal: AbortSignal | undefined): Promise<boolean> {
    const page = await this.#client.list(this.#dirPrefix(path), { maxKeys: 1 }, signal);
    return page.objects.length > 0 || page.prefixes.length > 0;
  }

  /** A read of no bytes still checks that the file exists, has the version and reaches `offset`. */
  async #emptyRead(path: string, offset: number, options: UfsReadOptions, attempt: string, signal: AbortSignal | undefined): Promise<UfsReadResult> {
    const found = await this.#client.head(this.#key(path), signal);
    if (found === undefined) {
      if (await this.#isDirectory(path, signal)) throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
      throw new DoraError('NOT_FOUND', `${attempt}: no such object`);
    }
    const status = objectStatus(path, found);
    if (options.expectVersion !== undefined && options.expectVersion !== status.version) throw changed(attempt, status.version, options.expectVersion);
    byteRange(status.size, { offset, length: 0 }, attempt);
    return { stream: emptyStream(), status };
  }

  #run<T>(attempt: string, options: UfsCallOptions, body: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    return runUfsCall(attempt, options, (error, attempt) => this.#client.translate(error, attempt), body);
  }
}

function changed(attempt: string, version: string, expected: string): DoraError {
  return new DoraError('FAILED_PRECONDITION', `${attempt}: the object changed (version ${version}, expected ${expected})`);
}

/** The status of an object at `path`. */
export function objectStatus(path: string, object: ObjectInfo): UfsStatus {
  const attributes = object.metadata === undefined ? undefined : { ...(object.contentType === undefined ? {} : { contentType: object.contentType }), metadata: object.metadata };
  return {
    path,
    kind: 'file',
    size: object.size,
    mtimeMs: object.mtimeMs,
    version: object.version,
    ...(object.etag === undefined ? {} : { etag: object.etag }),
    ...(attributes === undefined ? {} : { attributes }),
  };
}

function writtenStatus(path: string, size: number, written: { version: string; etag?: string | undefined; mtimeMs?: number | undefined }, options: UfsWriteOptions): UfsStatus {
  return objectStatus(path, { key: path, size, mtimeMs: written.mtimeMs ?? Date.now(), version: written.version, etag: written.etag, contentType: options.contentType, metadata: options.metadata ?? {} });
}
