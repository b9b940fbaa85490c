import { Readable } from 'node:stream';
import { DoraError, isDoraError } from '../common/errors.js';
import { checkedChunks, readAll, releasing } from '../common/streams.js';
import { normalizeDoraPath } from '../mount/dora-path.js';
import type { MountInfo, MountRequest } from '../mount/mount-info.js';
import { listingKey } from '../ufs/ufs-path.js';
import { createDefaultUfsRegistry } from '../ufs/ufs-registry.js';
import { DEFAULT_ADDRESS, type CallOptions, type DoraClientOptions, type ListOptions, type ReadOptions, type StatOptions, type WriteOptions } from './client-options.js';
import type { BatchLoaded, CacheSummary, ClientStats, ClusterCacheSummary, FileStatus, FreedCache, LoadedFile, WorkerInfo } from './client-types.js';
import { ClusterApi } from './cluster-api.js';
import { ClusterView } from './cluster-view.js';
import { normalizeAddress } from './coordinator-address.js';
import { CoordinatorApi } from './coordinator-api.js';
import { JobsApi } from './jobs-api.js';
import { HttpTransport, type Peer } from './http-transport.js';
import { IoObserver } from './io-observer.js';
import { openReadStream, type OpenedBytes } from './read-stream.js';
import { isUnreachable } from './remote-error.js';
import { ConsistentHashSelector } from '../hash/consistent-hash-selector.js';
import { StoreFallback } from './store-fallback.js';
import type { ListPage, WorkerApi } from './worker-api.js';
import { WorkerRouter, type Route, type WorkerCall } from './worker-router.js';

/**
 * The dora SDK. It asks the coordinator for workers and mounts (cached for a few seconds) and
 * sends file operations to the worker that serves each path, over one keep-alive connection pool.
 * Failures are DoraErrors with the code, message and `retryable` flag the server gave; a worker
 * that does not answer is UNAVAILABLE (retryable). When no worker answers, `stat`, `list` and
 * `read` are served from the store directly (see `stats().fallbacks`), so a read never fails
 * because a worker is down. Writes and other changes need a worker.
 */
export class DoraClient {
  readonly address: string;
  readonly jobs: JobsApi; // the coordinator's jobs: load whole directories, follow and stop them
  readonly cluster: ClusterApi; // the coordinator's view of the whole cluster: summary and history
  readonly #transport: HttpTransport;
  readonly #coordinator: Peer;
  readonly #view: ClusterView;
  readonly #admin: CoordinatorApi;
  readonly #fallback: StoreFallback | undefined;
  readonly #router: WorkerRouter;
  readonly #io: IoObserver;
  #readRetries = 0;
  #closed = false;

  constructor(options: DoraClientOptions = {}) {
    this.address = normalizeAddress(options.address ?? DEFAULT_ADDRESS);
    this.#transport = new HttpTransport({ connectTimeoutMs: options.connectTimeoutMs ?? 5_000, idleTimeoutMs: options.idleTimeoutMs ?? 120_000 });
    this.#coordinator = { role: 'coordinator', url: this.address };
    this.#admin = new CoordinatorApi(this.#transport, this.#coordinator);
    this.jobs = new JobsApi(this.#transport, this.#coordinator);
    this.cluster = new ClusterApi(this.#transport, this.#coordinator);
    this.#io = new IoObserver(options.observeIo);
    this.#view = new ClusterView({
      transport: this.#transport,
      coordinator: this.#coordinator,
      selector: options.selector ?? ((workers) => new ConsistentHashSelector(workers, { virtualNodes: options.virtualNodes })),
      source: options.source,
      onChange: () => options.observe?.('membership-change'),
      onWorkers: (workers) => this.#router.listed(workers),
      // A source is this process's own membership view: re-read it often, but not on every call.
      ttlMs: options.source === undefined ? (options.clusterTtlMs ?? 3_000) : SOURCE_TTL_MS,
      requestTimeoutMs: options.connectTimeoutMs ?? 5_000,
    });
    this.#router = new WorkerRouter({
      view: this.#view,
      transport: this.#transport,
      inProcess: options.inProcess,
      observe: options.observe,
      pollMs: options.source === undefined ? Math.max(1000, options.clusterTtlMs ?? 3_000) : 1000,
    });
    if (options.fallback !== false) {
      const fixed = options.fallbackMounts;
      this.#fallback = new StoreFallback({
        registry: options.registry ?? createDefaultUfsRegistry(),
        mounts: fixed === undefined ? (signal) => this.#view.mounts({ signal }) : () => Promise.resolve(fixed),
        resolveCredentials: options.resolveCredentials,
        onFallback: () => options.observe?.('fallback'),
      });
    }
  }

  /** A client whose coordinator has answered. Throws UNAVAILABLE when it cannot be reached. */
  static async connect(options: DoraClientOptions & CallOptions = {}): Promise<DoraClient> {
    const client = new DoraClient(options);
    try {
      await client.workers({ signal: options.signal });
      return client;
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  /** Status of a file or directory. Throws NOT_FOUND. Falls back to the store. */
  async stat(path: string, options: StatOptions = {}): Promise<FileStatus> {
    const canonical = normalizeDoraPath(path);
    try {
      return await this.#onWorker(canonical, options.signal, (worker, call) => worker.stat(canonical, { ...options, signal: call.signal }), FAILOVER);
    } catch (error) {
      return this.#viaFallback(error, options.signal, (fallback) => fallback.stat(canonical, options));
    }
  }

  /**
   * The entries of a directory in ascending path order, fetched page by page as iterated; with
   * `recursive`, every file below it. Throws (when iterated) NOT_FOUND, NOT_A_DIRECTORY. A worker
   * that stops answering mid-listing is replaced by the store from the last entry on.
   */
  async *list(path: string, options: ListOptions = {}): AsyncGenerator<FileStatus> {
    const canonical = normalizeDoraPath(path);
    let startAfter = options.startAfter;
    for (;;) {
      let page;
      try {
        const after = startAfter;
        page = await this.#onWorker(
          canonical,
          options.signal,
          (worker, call) => worker.list(canonical, { recursive: options.recursive, startAfter: after, limit: options.pageSize, signal: call.signal }),
          FAILOVER,
        );
      } catch (error) {
        const after = startAfter;
        let listing: AsyncGenerator<FileStatus> | undefined;
        const first = await this.#viaFallback(error, options.signal, (fallback) => {
          listing = fallback.list(canonical, { recursive: options.recursive, startAfter: after, signal: options.signal });
          return listing.next();
        });
        if (first.done === true || listing === undefined) return;
        yield first.value;
        yield* listing;
        return;
      }
      for (const entry of page.entries) {
        yield entry;
        // Where a listing resumes after this entry (a directory sorts after everything below it).
        startAfter = options.recursive === true ? entry.path : listingKey(entry);
      }
      if (page.next === undefined || page.entries.length === 0) return;
      startAfter = page.next;
    }
  }

  /** One page of a directory listing, from the directory's owner (or the next worker when it does not answer). */
  async listPage(path: string, options: CallOptions & { recursive?: boolean | undefined; startAfter?: string | undefined; limit?: number | undefined } = {}): Promise<ListPage> {
    const canonical = normalizeDoraPath(path);
    return this.#onWorker(canonical, options.signal, (worker, call) => worker.list(canonical, { ...options, signal: call.signal }), FAILOVER);
  }

  /**
   * Bytes [offset, offset + length) of a file, clamped to its end, streamed (never held whole).
   * Resolves once the first byte source answered: NOT_FOUND, IS_A_DIRECTORY and OUT_OF_RANGE fail
   * here. A file that changed in the store before any byte was delivered is read again once.
   */
  async read(path: string, options: ReadOptions = {}): Promise<Readable> {
    const canonical = normalizeDoraPath(path);
    const { offset = 0, length, signal } = options;
    if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
      throw new DoraError('INVALID_ARGUMENT', `Cannot read "${canonical}": offset and length must be whole numbers ≥ 0 (got ${offset}, ${length})`);
    }
    const io = this.#io.begin('read', canonical);
    return openReadStream({
      offset,
      length,
      version: options.version,
      open: (range, expectVersion) => io.within(() => this.#openBytes(canonical, range, expectVersion, { signal, replicas: options.replicas })),
      onRetry: () => this.#readRetries++,
      onEnd: (bytes, error) => io.end(bytes, error),
    });
  }

  /** A whole file in memory: for small files; use `read` for large ones. */
  async readFile(path: string, options: CallOptions = {}): Promise<Buffer> {
    return readAll(await this.read(path, options));
  }

  /**
   * Writes a whole file, replacing any previous one; it becomes visible atomically once complete.
   * A streamed source is sent as it is read. Throws INVALID_ARGUMENT when `size` does not match
   * the source, IS_A_DIRECTORY, PERMISSION_DENIED (read-only mount), UNAVAILABLE. Not retried.
   */
  async write(path: string, source: Uint8Array | AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<FileStatus> {
    const canonical = normalizeDoraPath(path);
    const attempt = `Cannot write "${canonical}"`;
    let body: Uint8Array | Readable;
    if (source instanceof Uint8Array) {
      if (options.size !== undefined && options.size !== source.byteLength) {
        throw new DoraError('INVALID_ARGUMENT', `${attempt}: the source has ${source.byteLength} bytes, not the declared ${options.size}`);
      }
      body = source;
    } else {
      body = Readable.from(checkedChunks(source, { size: options.size, attempt }), { objectMode: false });
    }
    const io = this.#io.begin('write', canonical);
    try {
      const written = await io.within(() => this.#onWorker(canonical, options.signal, (worker, call) => worker.write(canonical, body, { ...options, signal: call.signal })));
      io.end(written.size);
      return written;
    } catch (error) {
      io.end(0, error);
      throw error;
    }
  }

  /** The tags of a file or directory. Throws NOT_FOUND, UNIMPLEMENTED (a store without tags). */
  async tags(path: string, options: CallOptions = {}): Promise<Record<string, string>> {
    const canonical = normalizeDoraPath(path);
    return this.#onWorker(canonical, options.signal, (worker, call) => worker.tags(canonical, { signal: call.signal }), FAILOVER);
  }

  /** Replaces the tags of a file or directory; an empty set removes them. Throws NOT_FOUND, UNIMPLEMENTED. */
  async setTags(path: string, tags: Readonly<Record<string, string>>, options: CallOptions = {}): Promise<void> {
    const canonical = normalizeDoraPath(path);
    await this.#onWorker(canonical, options.signal, (worker, call) => worker.setTags(canonical, tags, { signal: call.signal }));
  }

  /** Deletes a file or directory (a non-empty one only with `recursive`). Throws DIRECTORY_NOT_EMPTY. */
  async delete(path: string, options: CallOptions & { recursive?: boolean | undefined } = {}): Promise<void> {
    const canonical = normalizeDoraPath(path);
    await this.#onWorker(canonical, options.signal, (worker, call) => worker.delete(canonical, { ...options, signal: call.signal }));
  }

  /** Renames a file or directory. Not idempotent; never sent twice. Throws NOT_FOUND. */
  async rename(from: string, to: string, options: CallOptions = {}): Promise<void> {
    const source = normalizeDoraPath(from);
    const target = normalizeDoraPath(to);
    await this.#onWorker(source, options.signal, (worker, call) => worker.rename(source, target, { signal: call.signal }));
  }

  /** Creates a directory and its missing parents. Throws ALREADY_EXISTS when a file is there. */
  async mkdir(path: string, options: CallOptions = {}): Promise<void> {
    const canonical = normalizeDoraPath(path);
    await this.#onWorker(canonical, options.signal, (worker, call) => worker.mkdir(canonical, { signal: call.signal }));
  }

  /** Has the worker re-read metadata of the path and everything below it; returns entries dropped. */
  async invalidate(path: string, options: CallOptions = {}): Promise<number> {
    const canonical = normalizeDoraPath(path);
    return this.#onWorker(canonical, options.signal, (worker, call) => worker.invalidate(canonical, { signal: call.signal }));
  }

  /**
   * Drops cached pages and metadata of the file, or of every file below the directory, on every
   * live worker (or on `worker` alone); answers what was dropped, summed. Every worker is asked
   * even when one fails; the first failure is then thrown.
   */
  async free(path: string, options: CallOptions & { worker?: WorkerInfo | undefined } = {}): Promise<FreedCache> {
    const canonical = normalizeDoraPath(path);
    const workers = options.worker === undefined ? await this.workers(options) : [options.worker];
    const settled = await Promise.allSettled(workers.map((w) => this.#onAddress(w, (api) => api.free(canonical, { signal: options.signal }))));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return settled.reduce((total, s) => {
      const f = (s as PromiseFulfilledResult<FreedCache>).value;
      return { files: total.files + f.files, pages: total.pages + f.pages, bytes: total.bytes + f.bytes };
    }, NOTHING_FREED);
  }

  /** Every worker's page cache, as the coordinator reports it. */
  cacheSummary(options: CallOptions = {}): Promise<ClusterCacheSummary> {
    return this.#admin.cacheSummary(options);
  }

  /** One worker's page cache, asked of the worker itself. */
  workerCacheSummary(worker: WorkerInfo, options: CallOptions = {}): Promise<CacheSummary> {
    return this.#router.api(worker.address).cache(options);
  }

  /** Takes a worker off the ring for new reads; it stops once its running reads finish. Throws NOT_FOUND, UNAVAILABLE. */
  async decommission(id: string, options: CallOptions = {}): Promise<void> {
    await this.#admin.decommission(id, options);
  }

  /** The workers the coordinator lists now. */
  workers(options: CallOptions = {}): Promise<readonly WorkerInfo[]> {
    return this.#view.workers(options);
  }

  /** The mount table, asked of the coordinator now (store secrets show as `***`). */
  mounts(options: CallOptions = {}): Promise<readonly MountInfo[]> {
    return this.#view.mounts({ signal: options.signal, fresh: true });
  }

  /** Adds a mount. Throws INVALID_ARGUMENT, ALREADY_EXISTS, FAILED_PRECONDITION, or the store's failure. */
  async mount(request: MountRequest, options: CallOptions = {}): Promise<MountInfo> {
    try {
      return await this.#admin.mount(request, options);
    } finally {
      this.#view.mountsChanged();
    }
  }

  /** Removes a mount. Throws NOT_FOUND, FAILED_PRECONDITION (mounts nested below it). */
  async unmount(path: string, options: CallOptions = {}): Promise<void> {
    try {
      await this.#admin.unmount(path, options);
    } finally {
      this.#view.mountsChanged();
    }
  }

  /**
   * Caches a file at its current version on its owner (or its first `replicas` workers): a load job's
   * unit of work. Pages cached already are kept. Throws NOT_FOUND, IS_A_DIRECTORY, UNAVAILABLE.
   */
  async load(path: string, options: CallOptions & { replicas?: number | undefined; metadataOnly?: boolean | undefined } = {}): Promise<LoadedFile[]> {
    const canonical = normalizeDoraPath(path);
    const owners = await this.owners(canonical, options);
    return Promise.all(owners.map((owner) => this.#onAddress(owner, (api) => api.load(canonical, { signal: options.signal, metadataOnly: options.metadataOnly }))));
  }

  /** Caches a batch of files on one worker (those of a load job it owns); each is answered on its own. */
  loadOn(worker: WorkerInfo, paths: readonly string[], options: CallOptions & { metadataOnly?: boolean | undefined } = {}): Promise<BatchLoaded[]> {
    return this.#onAddress(worker, (api) => api.loadMany(paths.map(normalizeDoraPath), options));
  }

  /**
   * The workers that keep `path`, in preference order: the owner first, then its replicas (as many
   * as the mount asks for, or `replicas`). Throws UNAVAILABLE when no worker is live.
   */
  async owners(path: string, options: CallOptions & { replicas?: number | undefined } = {}): Promise<readonly WorkerInfo[]> {
    const canonical = normalizeDoraPath(path);
    const { owners, replicas } = await this.#router.placement(canonical, options.signal, options.replicas);
    return owners.slice(0, replicas);
  }

  stats(): ClientStats {
    return { fallbacks: this.#fallback?.served ?? 0, failovers: this.#router.failovers, readRetries: this.#readRetries, membershipChanges: this.#view.membershipChanges };
  }

  /** Closes pooled connections and stores opened for fallback. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#router.close();
    await Promise.all([this.#transport.close(), this.#fallback?.close()]);
  }

  /** A call to one named worker; one that does not answer makes the view ask the coordinator again. */
  async #onAddress<T>(worker: WorkerInfo, call: (api: WorkerApi) => Promise<T>): Promise<T> {
    try {
      return await call(this.#router.api(worker.address));
    } catch (error) {
      if (isUnreachable(error)) this.#view.workerFailed();
      throw error;
    }
  }

  async #openBytes(
    path: string,
    range: { offset: number; length: number | undefined },
    expectVersion: string | undefined,
    options: { signal: AbortSignal | undefined; replicas: number | undefined },
  ): Promise<OpenedBytes> {
    const { signal } = options;
    const changed = (): DoraError => new DoraError('ABORTED', `Cannot read "${path}" at offset ${range.offset}: the file changed while it was read`);
    try {
      const opened = await this.#onWorker(
        path,
        signal,
        async (worker, call) => {
          const release = call.hold(); // a read waits on its worker until its last byte
          try {
            const read = await worker.read(path, { ...range, signal: call.signal });
            return { ...read, body: releasing(read.body, release), cancel: () => (release(), read.cancel()) };
          } catch (error) {
            release();
            throw error;
          }
        },
        { failover: true, replicas: options.replicas, spread: true },
      );
      if (expectVersion !== undefined && opened.version !== expectVersion) {
        opened.cancel();
        throw changed();
      }
      return { chunks: opened.body, version: opened.version };
    } catch (error) {
      try {
        const { stream, status } = await this.#viaFallback(error, signal, (fallback) => fallback.read(path, { ...range, expectVersion, signal }));
        return { chunks: stream, version: status.version };
      } catch (failure) {
        throw expectVersion !== undefined && isDoraError(failure, 'FAILED_PRECONDITION') ? changed() : failure;
      }
    }
  }

  /** Runs `call` on the store after the worker failed with `error` (see StoreFallback.after); rethrows `error` without a fallback. */
  #viaFallback<T>(error: unknown, signal: AbortSignal | undefined, call: (fallback: StoreFallback) => Promise<T>): Promise<T> {
    return this.#fallback === undefined ? Promise.reject(error) : this.#fallback.after(error, signal, call);
  }

  /** Runs `call` on the workers of `path` (see WorkerRouter.run). */
  #onWorker<T>(path: string, signal: AbortSignal | undefined, call: (worker: WorkerApi, context: WorkerCall) => Promise<T>, route: Route = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new DoraError('FAILED_PRECONDITION', `Cannot reach a worker for "${path}": the client is closed`));
    return this.#router.run(path, signal, call, route);
  }
}

const FAILOVER: Route = { failover: true };
const NOTHING_FREED: FreedCache = { files: 0, pages: 0, bytes: 0 };

/** How long a client inside a worker trusts the worker's own membership view and mount table. */
const SOURCE_TTL_MS = 250;
