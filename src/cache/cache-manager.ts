import { DoraError } from '../common/errors.js';
import { pageKeyString, type CachedFileUsage, type PageKey, type PageStore } from './page-store.js';

/** One version of one file, as the cache sees it. */
export interface CachedFile {
  /** The file's identity: its full store URI. */
  readonly fileId: string;
  readonly version: string;
  readonly size: number;
  /** The dora mount it lies in, for metrics labels. */
  readonly mount?: string;
}

/** Reads bytes of exactly this file version from the store (fails FAILED_PRECONDITION otherwise). */
export type PageFetcher = (range: { offset: number; length: number }) => Promise<Buffer>;

/** Where a page a reader asked for came from: the cache, a fetch of its own, or a fetch already under way. */
export type PageSource = 'hit' | 'miss' | 'joined';

/** Why pages were fetched from the store. */
export type FetchReason = 'read' | 'readahead' | 'load';

export type CacheEvent =
  /** A reader got bytes of a page (a slice of it): where the page came from, and the bytes sent. */
  | { readonly kind: 'read'; readonly file: CachedFile; readonly result: PageSource; readonly bytes: number }
  /** Bytes fetched from the store into the cache. */
  | { readonly kind: 'fetch'; readonly file: CachedFile; readonly bytes: number; readonly reason: FetchReason; readonly durationMs: number };

export interface CacheManagerOptions {
  readonly store: PageStore;
  readonly pageSize: number;
  /** Pages fetched ahead of a sequential reader; 0 turns read-ahead off. */
  readonly readAheadPages: number;
  /** Most read-ahead fetches in flight at once, across all files; default 8. */
  readonly maxReadAheadFetches?: number;
  readonly observe?: (event: CacheEvent) => void;
  /** A page lookup slower than this (a failing cache disk) counts as a miss; default 5 s. */
  readonly storeTimeoutMs?: number;
}

/** How many recent readers' positions are remembered to tell sequential from random access. */
const TRACKED_STREAMS = 4096;

/**
 * Serves byte ranges of files page by page from a page store, fetching misses from the store.
 * However many readers miss one page at once, it is fetched once. A reader that continues where
 * the previous read of the file ended (or reads more than a page) is sequential and triggers
 * read-ahead; a random reader does not. A page the store cannot keep is still served.
 */
export class CacheManager {
  readonly pageSize: number;
  readonly #options: CacheManagerOptions;
  readonly #inflight = new Map<string, Promise<Buffer>>();
  readonly #lastEnd = new Map<string, number>();
  readonly #unstored = new Map<string, Buffer>();
  /** Pages handed to the page store and not yet stored: `flush` waits for them. */
  readonly #storing = new Set<Promise<unknown>>();
  #readAheadInFlight = 0;

  constructor(options: CacheManagerOptions) {
    if (!Number.isSafeInteger(options.pageSize) || options.pageSize <= 0) {
      throw new DoraError('INVALID_ARGUMENT', `Cannot create a cache with page size ${options.pageSize}: it must be a positive whole number`);
    }
    this.#options = options;
    this.pageSize = options.pageSize;
  }

  /** Yields bytes [offset, offset + length) of `file` (clamped to its size), a page slice at a time. */
  async *read(file: CachedFile, fetch: PageFetcher, range: { offset: number; length: number }): AsyncGenerator<Buffer> {
    const end = Math.min(file.size, range.offset + range.length);
    if (range.offset >= end) return;
    const first = Math.floor(range.offset / this.pageSize);
    const last = Math.floor((end - 1) / this.pageSize);
    const sequential = last > first || this.#lastEnd.get(file.fileId) === range.offset;
    this.#remember(file.fileId, end);
    for (let index = first; index <= last; index++) {
      // A window of pages ahead of the one being served (never a rescan of the whole rest: that
      // made a long read quadratic): within the request, and past its end by readAheadPages.
      const window = Math.max(this.#options.readAheadPages, 1);
      if (sequential) this.#readAhead(file, fetch, index + 1, Math.min(last + this.#options.readAheadPages, index + window));
      const from = index === first ? range.offset - index * this.pageSize : 0;
      yield await this.slice(file, index, fetch, from, index === last ? end - index * this.pageSize : this.pageSize);
    }
  }

  /**
   * Bytes [from, to) of one page (to clamped to the page's end), from the cache or fetched once
   * however many readers ask at the same time.
   */
  async slice(file: CachedFile, index: number, fetch: PageFetcher, from: number, to: number): Promise<Buffer> {
    const key: PageKey = { fileId: file.fileId, version: file.version, index };
    const id = pageKeyString(key);
    let result: PageSource = 'joined';
    let data = this.#unstored.get(id); // fetched ahead, but the store could not keep it: handed over once
    if (data !== undefined) this.#unstored.delete(id);
    else {
      const pending = this.#inflight.get(id);
      data = pending === undefined ? await this.#lookup(key) : await pending;
      if (pending === undefined && data !== undefined) result = 'hit';
      if (data === undefined) {
        const raced = this.#inflight.get(id); // another reader may have started while we looked in the store
        if (raced === undefined) result = 'miss';
        data = raced === undefined ? await this.#fetchOnce(file, key, id, fetch, 'read') : await raced;
      }
    }
    const bytes = data.subarray(from, to);
    this.#options.observe?.({ kind: 'read', file, result, bytes: bytes.length });
    return bytes;
  }

  /**
   * Waits until the pages fetched so far have been handed to (and accepted or refused by) the page
   * store; with `untilIdle`, also those fetched meanwhile, until none is left (when reads stopped).
   */
  async flush(options: { untilIdle?: boolean } = {}): Promise<void> {
    do await Promise.all([...this.#storing]);
    while (options.untilIdle === true && this.#storing.size > 0);
  }

  /**
   * Caches a page the caller fetched from the store itself (a load reading many pages in one
   * request), counted as fetched for a load. Returns false if not kept.
   */
  async fetched(file: CachedFile, index: number, data: Buffer, durationMs: number): Promise<boolean> {
    this.#options.observe?.({ kind: 'fetch', file, bytes: data.length, reason: 'load', durationMs });
    return this.store(file, index, data);
  }

  /** Caches a page the caller already has (bytes just written to the store). Returns false if not kept. */
  async store(file: CachedFile, index: number, data: Buffer): Promise<boolean> {
    return this.#options.store.put({ fileId: file.fileId, version: file.version, index }, data).catch(() => false);
  }

  /** Whether a page is cached (without counting as a use). */
  has(file: CachedFile, index: number): boolean {
    return this.#options.store.has({ fileId: file.fileId, version: file.version, index });
  }

  /** Drops a file's pages (of every version but `keepVersion`). */
  async invalidate(fileId: string, keepVersion?: string): Promise<number> {
    this.#lastEnd.delete(fileId);
    return this.#options.store.deleteFile(fileId, keepVersion === undefined ? {} : { keepVersion });
  }

  /** The cached files whose id starts with `prefix`, with what of each is held. */
  files(prefix: string): CachedFileUsage[] {
    return this.#options.store.files(prefix);
  }

  /** Pages in a file of `size` bytes. */
  pageCount(size: number): number {
    return Math.ceil(size / this.pageSize);
  }

  #fetchOnce(file: CachedFile, key: PageKey, id: string, fetch: PageFetcher, reason: FetchReason): Promise<Buffer> {
    const offset = key.index * this.pageSize;
    const length = Math.min(this.pageSize, file.size - offset);
    const started = performance.now();
    const work = (async () => {
      const data = await fetch({ offset, length });
      if (data.length !== length) {
        throw new DoraError('UNAVAILABLE', `Cannot cache page ${key.index} of "${file.fileId}": the store sent ${data.length} of ${length} bytes`, { retryable: true });
      }
      this.#options.observe?.({ kind: 'fetch', file, bytes: length, reason, durationMs: performance.now() - started });
      return data;
    })();
    const stored = work.then(async (data) => {
      const kept = await this.#options.store.put(key, data).catch(() => false); // a full or failed tier still serves the bytes
      if (!kept) this.#keepUnstored(id, data);
      return data;
    });
    // Waiters get the bytes as soon as they arrive; the entry stays until the page is stored,
    // so nobody fetches it again in between. A slow store never holds a reader up.
    this.#inflight.set(id, work);
    work.catch(() => undefined); // each caller handles the failure it awaits
    const settled = stored.catch(() => undefined).finally(() => {
      this.#inflight.delete(id);
      this.#storing.delete(settled);
    });
    this.#storing.add(settled);
    return work;
  }

  #readAhead(file: CachedFile, fetch: PageFetcher, from: number, through: number): void {
    const lastPage = this.pageCount(file.size) - 1;
    const limit = this.#options.maxReadAheadFetches ?? 8;
    for (let index = from; index <= Math.min(through, lastPage) && this.#readAheadInFlight < limit; index++) {
      const id = pageKeyString({ fileId: file.fileId, version: file.version, index });
      if (this.#inflight.has(id) || this.#unstored.has(id) || this.has(file, index)) continue;
      this.#readAheadInFlight += 1;
      void this.#fetchOnce(file, { fileId: file.fileId, version: file.version, index }, id, fetch, 'readahead')
        .catch(() => undefined) // the reader fetches it again and sees the error itself
        .finally(() => (this.#readAheadInFlight -= 1));
    }
  }

  /** A page from the store, or undefined on a miss, a failure, or a store slower than `storeTimeoutMs`. */
  async #lookup(key: PageKey): Promise<Buffer | undefined> {
    const limit = this.#options.storeTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), limit);
    });
    try {
      return await Promise.race([this.#options.store.get(key).catch(() => undefined), slow]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Holds a few pages the store refused, so read-ahead is not wasted when the store is full. */
  #keepUnstored(id: string, data: Buffer): void {
    this.#unstored.set(id, data);
    const limit = 2 * (this.#options.maxReadAheadFetches ?? 8);
    while (this.#unstored.size > limit) {
      const oldest = this.#unstored.keys().next().value;
      if (oldest === undefined) break;
      this.#unstored.delete(oldest);
    }
  }

  #remember(fileId: string, end: number): void {
    this.#lastEnd.delete(fileId);
    this.#lastEnd.set(fileId, end);
    if (this.#lastEnd.size > TRACKED_STREAMS) {
      const oldest = this.#lastEnd.keys().next().value;
      if (oldest !== undefined) this.#lastEnd.delete(oldest);
    }
  }
}
