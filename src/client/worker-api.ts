import type { Readable } from 'node:stream';
import type { BatchLoaded, CacheSummary, FileStatus, FreedCache, LoadedFile } from './client-types.js';
import type { HttpAnswer, HttpTransport, Peer } from './http-transport.js';
import { requestError } from './remote-error.js';
import { encodeWriteAttributes, WRITE_ATTRIBUTES_HEADER, type WriteAttributes } from '../http/write-attributes.js';

interface Signalled {
  signal?: AbortSignal | undefined;
}

/** One page of a listing: pass `next` as `startAfter` for the following page. */
export interface ListPage {
  readonly entries: readonly FileStatus[];
  readonly next?: string;
}

/** The start of a read: the bytes still to come, and the file they belong to. */
export interface OpenedRead {
  /** The bytes; fails only with DoraErrors (a reset mid-body is UNAVAILABLE, `isUnreachable`). */
  readonly body: AsyncIterable<Uint8Array>;
  /** Discards the bytes unread and frees the connection. */
  cancel(): void;
  /** The file's version (`X-Dora-Version`, URL-decoded); '' when the worker did not say. */
  readonly version: string;
  /** The whole file's size (`X-Dora-Size`); -1 when the worker did not say. */
  readonly size: number;
}

/**
 * The calls a client makes of one worker: over HTTP (`HttpWorkerApi`), or in the worker's own
 * process (a FUSE mount beside a worker reads its pages without a socket between them).
 */
export type WorkerApi = { readonly [K in keyof HttpWorkerApi]: HttpWorkerApi[K] };

/**
 * The worker's internal API (docs/worker-api.md), one method per route. Paths are canonical dora
 * paths; every failure is a DoraError (UNAVAILABLE marked `isUnreachable` when the worker did not
 * answer). No retries or fallback here: DoraClient decides those.
 */
export class HttpWorkerApi {
  readonly #transport: HttpTransport;
  readonly #peer: Peer;

  constructor(transport: HttpTransport, address: string) {
    this.#transport = transport;
    this.#peer = { role: 'worker', url: address };
  }

  stat(path: string, options: Signalled & { attributes?: boolean | undefined }): Promise<FileStatus> {
    const query = { path, attributes: options.attributes === true ? 'true' : undefined };
    return this.#transport.json(this.#peer, { method: 'GET', path: '/v1/stat', query, signal: options.signal, attempt: `Cannot stat "${path}"` });
  }

  async tags(path: string, options: Signalled): Promise<Record<string, string>> {
    const answer = await this.#transport.json<{ tags?: Record<string, string> }>(this.#peer, { method: 'GET', path: '/v1/tags', query: { path }, signal: options.signal, attempt: `Cannot read the tags of "${path}"` });
    return answer.tags ?? {};
  }

  setTags(path: string, tags: Readonly<Record<string, string>>, options: Signalled): Promise<void> {
    return this.#transport.empty(this.#peer, {
      method: 'PUT',
      path: '/v1/tags',
      query: { path },
      body: Buffer.from(JSON.stringify({ tags })),
      headers: { 'content-type': 'application/json' },
      signal: options.signal,
      attempt: `Cannot tag "${path}"`,
    });
  }

  list(path: string, options: Signalled & { recursive?: boolean | undefined; startAfter?: string | undefined; limit?: number | undefined }): Promise<ListPage> {
    return this.#transport.json(this.#peer, {
      method: 'GET',
      path: '/v1/list',
      query: { path, recursive: options.recursive === true ? 'true' : undefined, startAfter: options.startAfter, limit: options.limit },
      signal: options.signal,
      attempt: `Cannot list "${path}"`,
    });
  }

  async read(path: string, options: Signalled & { offset: number; length?: number | undefined }): Promise<OpenedRead> {
    const answer: HttpAnswer = await this.#transport.send(this.#peer, {
      method: 'GET',
      path: '/v1/read',
      query: { path, offset: options.offset, length: options.length },
      signal: options.signal,
      attempt: `Cannot read "${path}" at offset ${options.offset}`,
    });
    const version = answer.headers['x-dora-version'];
    const size = Number(answer.headers['x-dora-size'] ?? -1);
    return {
      body: translated(answer.body, `Cannot read "${path}" at offset ${options.offset}`, `worker ${this.#peer.url}`, options.signal),
      cancel: () => answer.body.destroy(),
      version: typeof version === 'string' ? decodeHeader(version) : '',
      size: Number.isSafeInteger(size) ? size : -1,
    };
  }

  write(path: string, body: Uint8Array | Readable, options: Signalled & WriteAttributes & { size?: number | undefined; writeType?: string | undefined }): Promise<FileStatus> {
    const attributes = encodeWriteAttributes(options);
    return this.#transport.json(this.#peer, {
      method: 'PUT',
      path: '/v1/write',
      query: { path, writeType: options.writeType },
      body,
      headers: {
        ...(options.size === undefined ? {} : { 'content-length': String(options.size) }),
        ...(attributes === undefined ? {} : { [WRITE_ATTRIBUTES_HEADER]: attributes }),
      },
      signal: options.signal,
      attempt: `Cannot write "${path}"`,
    });
  }

  delete(path: string, options: Signalled & { recursive?: boolean | undefined }): Promise<void> {
    return this.#transport.empty(this.#peer, {
      method: 'DELETE',
      path: '/v1/delete',
      query: { path, recursive: options.recursive === true ? 'true' : undefined },
      signal: options.signal,
      attempt: `Cannot delete "${path}"`,
    });
  }

  rename(from: string, to: string, options: Signalled): Promise<void> {
    return this.#transport.empty(this.#peer, {
      method: 'POST',
      path: '/v1/rename',
      query: { from, to },
      signal: options.signal,
      attempt: `Cannot rename "${from}" to "${to}"`,
      idempotent: false,
    });
  }

  mkdir(path: string, options: Signalled): Promise<void> {
    return this.#transport.empty(this.#peer, { method: 'POST', path: '/v1/mkdir', query: { path }, signal: options.signal, attempt: `Cannot create directory "${path}"` });
  }

  async invalidate(path: string, options: Signalled): Promise<number> {
    const answer = await this.#transport.json<{ invalidated?: number }>(this.#peer, {
      method: 'POST',
      path: '/v1/invalidate',
      query: { path },
      signal: options.signal,
      attempt: `Cannot invalidate "${path}"`,
    });
    return answer.invalidated ?? 0;
  }

  free(path: string, options: Signalled): Promise<FreedCache> {
    return this.#transport.json(this.#peer, { method: 'POST', path: '/v1/free', query: { path }, signal: options.signal, attempt: `Cannot free "${path}"` });
  }

  load(path: string, options: Signalled & { metadataOnly?: boolean | undefined }): Promise<LoadedFile> {
    return this.#transport.json(this.#peer, {
      method: 'POST',
      path: '/v1/load',
      query: { path, metadataOnly: options.metadataOnly === true ? 'true' : undefined },
      signal: options.signal,
      attempt: `Cannot load "${path}"`,
    });
  }

  /** Loads a batch of files; each is answered on its own (see BatchLoaded). */
  async loadMany(paths: readonly string[], options: Signalled & { metadataOnly?: boolean | undefined }): Promise<BatchLoaded[]> {
    const answer = await this.#transport.json<{ files: BatchLoaded[] }>(this.#peer, {
      method: 'POST',
      path: '/v1/load-batch',
      query: { metadataOnly: options.metadataOnly === true ? 'true' : undefined },
      body: JSON.stringify({ paths }),
      headers: { 'content-type': 'application/json' },
      signal: options.signal,
      attempt: `Cannot load a batch of ${paths.length} files`,
    });
    return answer.files;
  }

  cache(options: Signalled): Promise<CacheSummary> {
    return this.#transport.json(this.#peer, { method: 'GET', path: '/v1/cache', signal: options.signal, attempt: 'Cannot read the cache summary' });
  }
}

/** Re-emits a worker's body, translating its failures. */
async function* translated(body: AsyncIterable<Uint8Array>, attempt: string, server: string, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (error) {
    throw requestError(error, attempt, server, signal);
  }
}

/** Header values are URL-encoded (an ETag may hold characters a header cannot). */
function decodeHeader(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
