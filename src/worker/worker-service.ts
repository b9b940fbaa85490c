import { Readable } from 'node:stream';
import { byteRange } from '../common/byte-range.js';
import { DoraError, isDoraError } from '../common/errors.js';
import { readAll } from '../common/streams.js';
import type { CacheManager, CachedFile, PageFetcher } from '../cache/cache-manager.js';
import { isUnder, normalizeDoraPath } from '../mount/dora-path.js';
import type { MountTable, Resolved } from '../mount/mount-table.js';
import type { UfsStatus, UfsTagging, UfsTags } from '../ufs/under-file-system.js';
import type { BatchLoaded, FreedCache, LoadedFile } from '../client/client-types.js';
import { toFileStatus, type FileStatus } from './file-status.js';
import { listDirectory, type ListPage } from './list-directory.js';
import type { MetadataCache } from './metadata-cache.js';
import { WriteHandler, type WriteOptions } from './write-handler.js';

/** Store requests one file's load has in flight at once. */
const LOAD_PARALLEL = 4;
/** Most pages a load fetches in one store request. */
const LOAD_RUN_PAGES = 16;
/** Files of a batch loaded at once. */
const BATCH_PARALLEL = 8;
/** Most files in one batch load. */
const MAX_LOAD_BATCH = 1000;

export interface WorkerServiceOptions {
  readonly mounts: MountTable;
  readonly cache: CacheManager;
  readonly metadata: MetadataCache;
  /** Metadata sync interval for mounts that set none (ms; -1 never, 0 always). */
  readonly defaultSyncMs: number;
  /** Where CACHE_THROUGH writes spool their bytes until the store has them. */
  readonly spoolDir: string;
  /** Told of each file written, once the store has it (metrics). */
  readonly onWritten?: ((mount: string, bytes: number) => void) | undefined;
}

/** What a worker's cache holds of one entry of a directory (a directory's: summed over the files below it). */
export interface HeldChild {
  readonly name: string;
  readonly pages: number;
  readonly bytes: number;
  readonly files: number;
}

export type RangeRead = { readonly status: FileStatus; readonly length: number } & ({ readonly bytes: Buffer } | { readonly stream: Readable });

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface StatOptions extends CallOptions {
  /** Fetch the content type and user metadata too (a listing's cached status lacks them). */
  attributes?: boolean | undefined;
}

/**
 * What a worker does, independent of HTTP: resolves dora paths through the mount table, answers
 * metadata from its cache within each mount's sync interval, serves reads page by page from the
 * page cache, and writes through to the store.
 */
export class WorkerService {
  readonly #o: WorkerServiceOptions;
  readonly #writes: WriteHandler;
  /** Loads in flight, by file version: a second load of one joins the first. */
  readonly #loading = new Map<string, Promise<LoadedFile>>();

  constructor(options: WorkerServiceOptions) {
    this.#o = options;
    this.#writes = new WriteHandler({ cache: options.cache, metadata: options.metadata, spoolDir: options.spoolDir });
  }

  async stat(path: string, options: StatOptions = {}): Promise<FileStatus> {
    const { resolved, status, doraPath } = await this.#status(path, options);
    return toFileStatus(doraPath, resolved.mount.path, status);
  }

  /** The tags of a file or directory. Throws UNIMPLEMENTED where the store keeps none. */
  async tags(path: string, options: CallOptions = {}): Promise<UfsTags> {
    const { resolved, doraPath } = await this.#resolve(path);
    return this.#tagging(resolved, doraPath).get(resolved.path, options);
  }

  /** Replaces the tags of a file or directory (an empty set removes them). */
  async setTags(path: string, tags: UfsTags, options: CallOptions = {}): Promise<void> {
    const { resolved, doraPath } = await this.#resolve(path);
    await this.#tagging(resolved, doraPath).put(resolved.path, tags, options);
  }

  async list(path: string, options: CallOptions & { recursive?: boolean; startAfter?: string; limit?: number } = {}): Promise<ListPage> {
    const { resolved, status, doraPath } = await this.#status(path, options);
    if (status.kind !== 'directory') throw new DoraError('NOT_A_DIRECTORY', `Cannot list "${doraPath}": it is a file`);
    return listDirectory(resolved, doraPath, {
      ...options,
      metadata: this.#o.metadata,
      syncMs: this.#syncMs(resolved),
      mountsBelow: this.#o.mounts.list().filter((m) => m.path !== doraPath && isUnder(m.path, doraPath)).map((m) => m.path),
    });
  }

  /**
   * Opens a range of a file: the bytes themselves when the range lies within one page, else a
   * stream, which fails with ABORTED if the file changes in the store meanwhile.
   */
  async read(path: string, options: CallOptions & { offset?: number | undefined; length?: number | undefined } = {}): Promise<RangeRead> {
    const { resolved, status, doraPath } = await this.#status(path, options);
    const attempt = `Cannot read "${doraPath}"`;
    if (status.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
    const [start, end] = byteRange(status.size, options, attempt);
    const file = this.#cachedFile(resolved, status);
    const fetch = this.#fetcher(resolved, status, doraPath);
    const fileStatus = toFileStatus(doraPath, resolved.mount.path, status);
    const pageSize = this.#o.cache.pageSize;
    if (end > start && Math.floor(start / pageSize) === Math.floor((end - 1) / pageSize)) {
      // Within one page (small random reads): the bytes at once, without a stream's overhead.
      const index = Math.floor(start / pageSize);
      const bytes = await this.#o.cache.slice(file, index, fetch, start - index * pageSize, end - index * pageSize);
      return { bytes, status: fileStatus, length: end - start };
    }
    const stream = Readable.from(this.#o.cache.read(file, fetch, { offset: start, length: end - start }), { objectMode: false });
    return { stream, status: fileStatus, length: end - start };
  }

  /**
   * Caches every page of a file at its current version: pages held already are kept, the others
   * fetched from the store in runs of up to LOAD_RUN_PAGES pages per request (one request, not one
   * per page: stores charge per request and some read a whole object for each range), LOAD_PARALLEL
   * runs at a time. `metadataOnly` caches just the status.
   */
  async load(path: string, options: CallOptions & { metadataOnly?: boolean } = {}): Promise<LoadedFile> {
    const { resolved, status, doraPath } = await this.#status(path, options);
    if (status.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `Cannot load "${doraPath}": it is a directory`);
    const file = this.#cachedFile(resolved, status);
    const key = `${file.version}\u0000${file.fileId}\u0000${options.metadataOnly === true}`;
    const running = this.#loading.get(key); // the same version loading already: fetched once
    if (running !== undefined) return running;
    const loading = this.#loadPages(resolved, status, doraPath, options).finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  async #loadPages(resolved: Resolved, status: UfsStatus, doraPath: string, options: CallOptions & { metadataOnly?: boolean }): Promise<LoadedFile> {
    const file = this.#cachedFile(resolved, status);
    const pages = this.#o.cache.pageCount(status.size);
    const runs: Array<{ first: number; count: number }> = [];
    if (options.metadataOnly !== true) {
      for (let index = 0; index < pages; index++) {
        if (this.#o.cache.has(file, index)) continue;
        const last = runs.at(-1);
        if (last !== undefined && last.first + last.count === index && last.count < LOAD_RUN_PAGES) last.count += 1;
        else runs.push({ first: index, count: 1 });
      }
    }
    let next = 0;
    let bytesFetched = 0;
    const fetchRuns = async (): Promise<void> => {
      for (let run = runs[next++]; run !== undefined; run = runs[next++]) bytesFetched += await this.#loadRun(resolved, status, doraPath, run, options.signal);
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_PARALLEL, runs.length) }, fetchRuns));
    const pagesFetched = runs.reduce((n, r) => n + r.count, 0);
    return { path: doraPath, version: status.version, size: status.size, pages, pagesFetched, bytesFetched };
  }

  /** Fetches pages [first, first + count) of exactly this version in one store request, caching each as it completes. Returns the bytes fetched. */
  async #loadRun(resolved: Resolved, status: UfsStatus, doraPath: string, run: { first: number; count: number }, signal: AbortSignal | undefined): Promise<number> {
    const file = this.#cachedFile(resolved, status);
    const pageSize = this.#o.cache.pageSize;
    const offset = run.first * pageSize;
    const length = Math.min(run.count * pageSize, status.size - offset);
    const started = performance.now();
    let index = run.first;
    let page = Buffer.allocUnsafe(Math.min(pageSize, status.size - index * pageSize));
    let filled = 0;
    try {
      const { stream } = await resolved.ufs.read(resolved.path, { offset, length, expectVersion: status.version, signal });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        for (let at = 0; at < chunk.length; ) {
          const taken = chunk.copy(page, filled, at);
          at += taken;
          filled += taken;
          if (filled < page.length) continue;
          await this.#o.cache.fetched(file, index, page, performance.now() - started);
          index += 1;
          filled = 0;
          if (index < run.first + run.count) page = Buffer.allocUnsafe(Math.min(pageSize, status.size - index * pageSize));
        }
      }
    } catch (error) {
      throw this.#changedWhileRead(error, `Cannot load "${doraPath}" at offset ${offset}`, doraPath);
    }
    if (index !== run.first + run.count) {
      throw new DoraError('UNAVAILABLE', `Cannot load "${doraPath}": the store sent ${(index - run.first) * pageSize + filled} of ${length} bytes from offset ${offset}`, { retryable: true });
    }
    return length;
  }

  /**
   * Loads a batch of files (a load job's files owned here), `BATCH_PARALLEL` at a time, each
   * answered on its own: what it loaded, or why it could not.
   */
  async loadMany(paths: readonly string[], options: CallOptions & { metadataOnly?: boolean } = {}): Promise<BatchLoaded[]> {
    if (paths.length > MAX_LOAD_BATCH) throw new DoraError('INVALID_ARGUMENT', `Cannot load ${paths.length} files in one batch: at most ${MAX_LOAD_BATCH}`);
    const answers: BatchLoaded[] = new Array<BatchLoaded>(paths.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < paths.length; i = next++) {
        const path = paths[i]!;
        answers[i] = await this.load(path, options).then(
          (loaded) => ({ path, loaded }),
          (error: unknown) => ({ path, error: (isDoraError(error) ? error : new DoraError('INTERNAL', `Cannot load "${path}": ${String(error)}`)).toJSON() }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_PARALLEL, paths.length) }, worker));
    return answers;
  }

  async write(path: string, body: AsyncIterable<Uint8Array>, options: CallOptions & WriteOptions = {}): Promise<FileStatus> {
    const doraPath = normalizeDoraPath(path);
    const resolved = await this.#o.mounts.resolve(doraPath);
    if (resolved.path === '') throw new DoraError('IS_A_DIRECTORY', `Cannot write "${doraPath}": it is a mount point`);
    const status = await this.#writes.write(resolved, doraPath, body, options);
    this.#o.onWritten?.(resolved.mount.path, status.size);
    return toFileStatus(doraPath, resolved.mount.path, status);
  }

  async mkdir(path: string, options: CallOptions = {}): Promise<void> {
    const doraPath = normalizeDoraPath(path);
    const resolved = await this.#o.mounts.resolve(doraPath);
    await resolved.ufs.mkdir(resolved.path, options);
    this.#o.metadata.invalidate(doraPath);
  }

  /** Deletes a file, an empty directory, or with `recursive` a whole tree. Idempotent for a missing file. */
  async delete(path: string, options: CallOptions & { recursive?: boolean } = {}): Promise<void> {
    const doraPath = normalizeDoraPath(path);
    const resolved = await this.#o.mounts.resolve(doraPath);
    if (resolved.path === '') throw new DoraError('FAILED_PRECONDITION', `Cannot delete "${doraPath}": it is a mount point; unmount it instead`);
    await this.#writes.delete(resolved, doraPath, options);
  }

  async rename(from: string, to: string, options: CallOptions = {}): Promise<void> {
    const source = await this.#o.mounts.resolve(normalizeDoraPath(from));
    const target = await this.#o.mounts.resolve(normalizeDoraPath(to));
    await this.#writes.rename(source, target, { from: normalizeDoraPath(from), to: normalizeDoraPath(to), ...options });
  }

  /** Forgets cached metadata of the path and everything below it, so the store is asked again. */
  async invalidate(path: string): Promise<number> {
    return this.#o.metadata.invalidate(normalizeDoraPath(path));
  }

  /**
   * Drops the cached pages (every version) and metadata of a file, or of every file below a
   * directory, mounts below it included. Works from what the cache holds, not from a listing of the
   * store, so files deleted from the store are dropped too.
   */
  async free(path: string): Promise<FreedCache> {
    const { resolved, doraPath } = await this.#resolve(path);
    await Promise.all([this.#writes.cached(), this.#o.cache.flush()]); // pages on their way into the cache go too
    const file = resolved.ufs.uri + resolved.path;
    const below = await Promise.all(
      this.#o.mounts
        .list()
        .filter((m) => m.path !== doraPath && isUnder(m.path, doraPath))
        .map((m) => this.#o.mounts.resolve(m.path).then((r) => r.ufs.uri, () => undefined)), // a store that cannot open has nothing cached here
    );
    const prefixes = [resolved.path === '' ? resolved.ufs.uri : `${file}/`, ...below.filter((uri) => uri !== undefined)];
    const held = new Map(prefixes.flatMap((prefix) => this.#o.cache.files(prefix)).map((f) => [f.fileId, f]));
    if (resolved.path !== '') for (const f of this.#o.cache.files(file)) if (f.fileId === file) held.set(file, f);
    const freed = { files: 0, pages: 0, bytes: 0 };
    for (const f of held.values()) {
      await this.#o.cache.invalidate(f.fileId);
      freed.files += 1;
      freed.pages += f.pages;
      freed.bytes += f.bytes;
    }
    this.#o.metadata.invalidate(doraPath);
    return freed;
  }

  /**
   * What the page cache holds of one file, without asking the store: pages and bytes over every
   * version and tier (as the cache summary counts them), and, where this worker knows the file's
   * version, how many of that version's pages it holds in any tier. Idempotent.
   */
  async held(path: string): Promise<{ path: string; pages: number; bytes: number; current?: { version: string; pages: number; of: number } }> {
    const { resolved, doraPath } = await this.#resolve(path);
    const fileId = resolved.ufs.uri + resolved.path;
    const usage = resolved.path === '' ? undefined : this.#o.cache.files(fileId).find((f) => f.fileId === fileId);
    const known = this.#o.metadata.lastKnown(doraPath);
    const held = { path: doraPath, pages: usage?.pages ?? 0, bytes: usage?.bytes ?? 0 };
    if (known?.kind !== 'file' || usage === undefined) return held;
    const file = this.#cachedFile(resolved, known);
    const of = this.#o.cache.pageCount(known.size);
    let pages = 0;
    for (let index = 0; index < of; index++) if (this.#o.cache.has(file, index)) pages += 1;
    return { ...held, current: { version: known.version, pages, of } };
  }

  /**
   * What the page cache holds under a directory, by its entries (a file, or a directory summed over
   * the files below it): pages, bytes and files, over every version and tier. Asks no store.
   */
  async heldChildren(path: string): Promise<{ path: string; children: HeldChild[] }> {
    const { resolved, doraPath } = await this.#resolve(path);
    const prefix = resolved.path === '' ? resolved.ufs.uri : `${resolved.ufs.uri}${resolved.path}/`;
    const children = new Map<string, HeldChild>();
    for (const f of this.#o.cache.files(prefix)) {
      const name = f.fileId.slice(prefix.length).split('/')[0] ?? '';
      if (name === '') continue;
      const seen = children.get(name) ?? { name, pages: 0, bytes: 0, files: 0 };
      children.set(name, { name, pages: seen.pages + f.pages, bytes: seen.bytes + f.bytes, files: seen.files + 1 });
    }
    return { path: doraPath, children: [...children.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) };
  }

  async #resolve(path: string): Promise<{ resolved: Resolved; doraPath: string }> {
    const doraPath = normalizeDoraPath(path);
    return { resolved: await this.#o.mounts.resolve(doraPath), doraPath };
  }

  #tagging(resolved: Resolved, doraPath: string): UfsTagging {
    if (resolved.ufs.tagging === undefined) throw new DoraError('UNIMPLEMENTED', `Cannot tag "${doraPath}": the store of ${resolved.mount.path} keeps no tags`);
    return resolved.ufs.tagging;
  }

  /** The status of a path: from the metadata cache while fresh, else from the store. */
  async #status(path: string, options: StatOptions): Promise<{ resolved: Resolved; status: UfsStatus; doraPath: string }> {
    const { resolved, doraPath } = await this.#resolve(path);
    const cached = this.#o.metadata.status(doraPath, this.#syncMs(resolved));
    if (cached !== undefined) {
      if ('status' in cached && (options.attributes !== true || cached.status.attributes !== undefined || cached.status.kind === 'directory')) {
        return { resolved, status: cached.status, doraPath };
      }
      if ('missing' in cached) return this.#missing(resolved, doraPath);
    }
    let status: UfsStatus;
    try {
      status = await resolved.ufs.stat(resolved.path, { signal: options.signal });
    } catch (error) {
      if (!isDoraError(error, 'NOT_FOUND')) throw error;
      this.#o.metadata.setStatus(doraPath, { missing: true });
      return this.#missing(resolved, doraPath);
    }
    const previous = this.#o.metadata.lastKnown(doraPath);
    if (previous !== undefined && previous.kind === 'file' && previous.version !== status.version) {
      await this.#o.cache.invalidate(resolved.ufs.uri + resolved.path, status.version); // the old version's pages are garbage now
    }
    this.#o.metadata.setStatus(doraPath, { status });
    return { resolved, status, doraPath };
  }

  /** A path the store lacks is still a directory when mounts lie below it (e.g. '/a' for a mount at '/a/b'). */
  #missing(resolved: Resolved, doraPath: string): { resolved: Resolved; status: UfsStatus; doraPath: string } {
    if (this.#o.mounts.list().some((m) => m.path !== doraPath && isUnder(m.path, doraPath))) {
      return { resolved, status: { path: resolved.path, kind: 'directory', size: 0, mtimeMs: 0, version: '' }, doraPath };
    }
    throw new DoraError('NOT_FOUND', `Cannot stat "${doraPath}": no such file or directory`);
  }

  #syncMs(resolved: Resolved): number {
    return resolved.mount.syncIntervalMs ?? this.#o.defaultSyncMs;
  }

  #cachedFile(resolved: Resolved, status: UfsStatus): CachedFile {
    return { fileId: resolved.ufs.uri + resolved.path, version: status.version, size: status.size, mount: resolved.mount.path };
  }

  /** Fetches page ranges of exactly this version; a changed file aborts the read and is re-checked next time. */
  #fetcher(resolved: Resolved, status: UfsStatus, doraPath: string): PageFetcher {
    return async ({ offset, length }) => {
      try {
        const { stream } = await resolved.ufs.read(resolved.path, { offset, length, expectVersion: status.version });
        return await readAll(stream);
      } catch (error) {
        throw this.#changedWhileRead(error, `Cannot read "${doraPath}" at offset ${offset}`, doraPath);
      }
    };
  }

  /**
   * What a failed read of a pinned version throws: the store saying the version is gone (changed or
   * deleted) becomes ABORTED, retryable, and the file's status is forgotten so the next try sees the
   * new one; any other failure as it is.
   */
  #changedWhileRead(error: unknown, attempt: string, doraPath: string): unknown {
    if (!isDoraError(error, 'FAILED_PRECONDITION') && !isDoraError(error, 'NOT_FOUND')) return error;
    this.#o.metadata.forgetFile(doraPath);
    return new DoraError('ABORTED', `${attempt}: the file changed in the store while it was read`, { cause: error, retryable: true });
  }
}
