import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DoraError } from '../common/errors.js';
import { fromSystemError, throwIfAborted } from '../common/system-errors.js';
import { checkPageKey, describePage } from './check-page-key.js';
import { MAX_PAGE_BYTES, decodePageFile, encodePageHeader } from './disk-page-format.js';
import { DiskPageLayout, encodeGroupMeta } from './disk-page-layout.js';
import { restoreDiskPages } from './disk-page-restore.js';
import type { EvictionPolicyFactory } from './eviction-policy.js';
import { KeyedQueue } from './keyed-queue.js';
import { LruPolicy } from './lru-policy.js';
import { PageIndex } from './page-index.js';
import { checkPageRange, pageSlice } from './page-slice.js';
import type { CachedFileUsage, PageKey, PageStore, PageStoreStats } from './page-store.js';
import { unlinkIfPresent, writeFileAtomically } from './write-file-atomically.js';

export interface DiskPageStoreOptions {
  /** The directory that holds the pages; created when missing. */
  readonly dir: string;
  /**
   * The most page data bytes kept. Headers, directories and meta files are a small fixed overhead
   * per page on top, so leave a margin below the disk's size. Measured on ext4 (4 KiB blocks,
   * bench/page-index-bench.ts): a page whose size is a multiple of 4 KiB takes one more block for
   * its 16-byte header, and each (file, version) a directory and a meta file of a block each —
   * about 5.3 KiB per page with 10 pages per file (0.5 % of a 1 MiB page), 15 KiB with one.
   */
  readonly capacityBytes: number;
  /** Defaults to least recently used. */
  readonly policy?: EvictionPolicyFactory;
  /** Defaults to 'disk'. */
  readonly name?: string;
  /** Stops the restore of the index at open. */
  readonly signal?: AbortSignal;
}

export interface DiskPageStoreStats extends PageStoreStats {
  /** Pages found damaged (checksum or length mismatch, short or vanished file) and dropped. */
  readonly corruptions: number;
  /** Reads and writes that failed on I/O (full disk, unwritable directory, EIO), each answered as a miss or false. */
  readonly failures: number;
}

/** A put in progress; `cancelled` when its page was deleted meanwhile, so the written file is removed. */
interface PendingWrite {
  readonly key: PageKey;
  cancelled: boolean;
  done: Promise<boolean>;
}

/**
 * Pages as files under one directory, surviving restarts (layout in disk-page-layout.ts, file
 * format in disk-page-format.ts). `open` rebuilds the index from the directory tree.
 *
 * A failing disk never fails a read: I/O errors make `put` return false and `get` a miss, are
 * counted in `stats().failures` and kept in `lastError`, and a directory that cannot be created or
 * written at open gives a store that caches nothing (`healthy` false) rather than an error.
 *
 * Bytes are reserved before a page is written, so `bytes` (written pages) never exceeds the
 * capacity even with writes in flight; a put that does not fit beside the writes in flight waits
 * for them. Every change to one file (write, unlink) runs in order through a per-path queue.
 */
export class DiskPageStore implements PageStore {
  readonly name: string;
  readonly capacityBytes: number;
  readonly dir: string;
  readonly #layout: DiskPageLayout;
  readonly #index: PageIndex<number>;
  readonly #queue = new KeyedQueue();
  readonly #writes = new Map<string, PendingWrite>();
  /**
   * Groups (by hash) whose directory and meta file were made for writes still in flight. A group
   * with pages in the index has them too; a Set of every group would cost 110 bytes per group.
   */
  readonly #preparedGroups = new Set<string>();
  /** Writes in progress per group (by hash): a group's directory is removed only when none are. */
  readonly #groupWriters = new Map<string, number>();
  #spaceWaiters: Array<() => void> = [];
  #reserved = 0;
  #evictions = 0;
  #corruptions = 0;
  #failures = 0;
  #openError: DoraError | undefined;
  #lastError: DoraError | undefined;
  #lastWriteFailed = false;
  #closed = false;

  private constructor(options: DiskPageStoreOptions) {
    this.name = options.name ?? 'disk';
    this.capacityBytes = options.capacityBytes;
    this.dir = options.dir;
    this.#layout = new DiskPageLayout(options.dir);
    this.#index = new PageIndex<number>((options.policy ?? (() => new LruPolicy()))(), (bytes) => bytes);
  }

  /**
   * Opens the store at `dir`, rebuilding its index from the pages there (oldest write first in
   * the eviction order) and evicting down to `capacityBytes`. Never throws for I/O: a directory
   * that cannot be created, listed or written opens a store that caches nothing. Throws
   * INVALID_ARGUMENT for a bad capacity and CANCELLED when `signal` aborts.
   */
  static async open(options: DiskPageStoreOptions): Promise<DiskPageStore> {
    const attempt = `Cannot open the page store at "${options.dir}"`;
    if (!Number.isSafeInteger(options.capacityBytes) || options.capacityBytes < 0) {
      throw new DoraError('INVALID_ARGUMENT', `${attempt}: capacity must be a whole number of bytes ≥ 0 (got ${options.capacityBytes})`);
    }
    throwIfAborted(options.signal, attempt);
    const store = new DiskPageStore(options);
    try {
      await mkdir(options.dir, { recursive: true });
      // Listing works on a read-only directory; only a write shows that pages can be stored.
      await writeFileAtomically(join(options.dir, '.probe'), [Buffer.from('dora\n')]);
      await unlinkIfPresent(join(options.dir, '.probe'));
    } catch (error) {
      store.#openError = fromSystemError(error, attempt);
      store.#lastError = store.#openError;
      return store;
    }
    let restored;
    try {
      restored = await restoreDiskPages(store.#layout, options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw fromSystemError(error, attempt);
      store.#openError = fromSystemError(error, attempt);
      store.#lastError = store.#openError;
      return store;
    }
    store.#corruptions += restored.corruptions;
    store.#failures += restored.failures;
    restored.pages.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const page of restored.pages) store.#index.add(page.key, page.bytes);
    const evicted: Promise<void>[] = [];
    while (store.#index.bytes > store.capacityBytes) evicted.push(store.#evict(store.#index.victim()!));
    await Promise.all(evicted);
    return store;
  }

  /** False when the directory could not be opened, or the last write failed (until one succeeds). */
  get healthy(): boolean {
    return this.#openError === undefined && !this.#lastWriteFailed;
  }

  /** The last I/O failure, for health reports; undefined when there has been none. */
  get lastError(): DoraError | undefined {
    return this.#lastError;
  }

  /** Where a page's file lives, whether or not it is cached. */
  pathOf(key: PageKey): string {
    return this.#layout.pagePath(this.#layout.groupDir(this.#layout.groupHash(key.fileId, key.version)), key.index);
  }

  async get(key: PageKey, range?: { offset?: number; length?: number }): Promise<Buffer | undefined> {
    checkPageKey(key, 'read');
    checkPageRange(range, key);
    const bytes = this.#index.get(key);
    if (bytes === undefined || this.#closed) return undefined;
    let file: Buffer;
    try {
      file = await readFile(this.pathOf(key));
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') this.#dropDamaged(key, bytes);
      else this.#fail(error, `Cannot read ${describePage(key)}`);
      return undefined;
    }
    // The whole page is checked before any byte of it is served.
    const data = decodePageFile(file);
    if (data === undefined || data.length !== bytes) {
      this.#dropDamaged(key, bytes);
      return undefined;
    }
    this.#index.touch(key);
    return pageSlice(data, range, key);
  }

  async put(key: PageKey, data: Buffer): Promise<boolean> {
    checkPageKey(key, 'cache');
    if (this.#openError !== undefined) {
      this.#failures++;
      return false;
    }
    if (this.#closed || data.length > this.capacityBytes || data.length > MAX_PAGE_BYTES) return false;
    if (this.#index.has(key)) {
      this.#index.touch(key);
      return true;
    }
    const path = this.pathOf(key);
    const pending = this.#writes.get(path);
    if (pending !== undefined && !pending.cancelled) return pending.done; // a cancelled one removes its file first
    const write: PendingWrite = { key, cancelled: false, done: Promise.resolve(false) };
    this.#writes.set(path, write);
    write.done = this.#write(write, path, data).finally(() => {
      if (this.#writes.get(path) === write) this.#writes.delete(path);
    });
    return write.done;
  }

  has(key: PageKey): boolean {
    return this.#index.has(key);
  }

  touch(key: PageKey): void {
    this.#index.touch(key);
  }

  async delete(key: PageKey): Promise<void> {
    checkPageKey(key, 'delete');
    const cancelled = this.#cancelWrites((k) => k.index === key.index && k.version === key.version && k.fileId === key.fileId);
    const removed = this.#index.remove(key) !== undefined;
    if (removed) this.#removeGroupIfEmpty(this.#layout.groupHash(key.fileId, key.version), key);
    await Promise.all([cancelled, removed ? this.#unlink(this.pathOf(key)) : undefined]);
  }

  async deleteFile(fileId: string, options: { keepVersion?: string } = {}): Promise<number> {
    const cancelled = this.#cancelWrites((k) => k.fileId === fileId && k.version !== options.keepVersion);
    const dropped = this.#index.removeFile(fileId, options.keepVersion);
    const groupDirs = new Map<string, string>();
    const unlinks = dropped.map(([key]) => {
      let dir = groupDirs.get(key.version);
      if (dir === undefined) {
        const hash = this.#layout.groupHash(fileId, key.version);
        this.#removeGroupIfEmpty(hash, key);
        groupDirs.set(key.version, (dir = this.#layout.groupDir(hash)));
      }
      return this.#unlink(this.#layout.pagePath(dir, key.index));
    });
    await Promise.all([cancelled, ...unlinks]);
    return dropped.length;
  }

  files(prefix: string): CachedFileUsage[] {
    return this.#index.files(prefix);
  }

  stats(): DiskPageStoreStats {
    return {
      pages: this.#index.pages,
      bytes: this.#index.bytes,
      capacityBytes: this.capacityBytes,
      evictions: this.#evictions,
      corruptions: this.#corruptions,
      failures: this.#failures,
    };
  }

  /** Waits for writes and deletions in flight; afterwards the store caches and serves nothing. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeSpaceWaiters();
    await Promise.all([...this.#writes.values()].map((w) => w.done));
    await this.#queue.idle();
  }

  async #write(write: PendingWrite, path: string, data: Buffer): Promise<boolean> {
    const { key } = write;
    const hash = this.#layout.groupHash(key.fileId, key.version);
    this.#groupWriters.set(hash, (this.#groupWriters.get(hash) ?? 0) + 1);
    let reserved = 0;
    try {
      if (!(await this.#reserve(data.length))) return false;
      reserved = data.length;
      if (!this.#groupReady(hash, key)) await this.#queue.run(hash, () => this.#prepareGroup(hash, key));
      return await this.#queue.run(path, async () => {
        if (write.cancelled || this.#closed) return false;
        await writeFileAtomically(path, [encodePageHeader(data), data]);
        this.#lastWriteFailed = false;
        if (write.cancelled || this.#closed) {
          await unlinkIfPresent(path);
          return false;
        }
        // Committed while this path's queue is held, in the same step as the last check.
        this.#release(reserved);
        reserved = 0;
        this.#index.add(key, data.length);
        return true;
      });
    } catch (error) {
      this.#fail(error, `Cannot cache ${describePage(key)}`);
      this.#lastWriteFailed = true;
      return false;
    } finally {
      if (reserved > 0) this.#release(reserved);
      this.#leaveGroup(hash, key);
    }
  }

  /** Makes room for `bytes`: waits for writes in flight to leave room, then evicts written pages. */
  async #reserve(bytes: number): Promise<boolean> {
    while (this.#reserved + bytes > this.capacityBytes && !this.#closed) {
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
    if (this.#closed) return false;
    while (this.#index.bytes + this.#reserved + bytes > this.capacityBytes) void this.#evict(this.#index.victim()!);
    this.#reserved += bytes;
    return true;
  }

  #release(bytes: number): void {
    this.#reserved -= bytes;
    this.#wakeSpaceWaiters();
  }

  #wakeSpaceWaiters(): void {
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  async #prepareGroup(hash: string, key: PageKey): Promise<void> {
    if (this.#groupReady(hash, key)) return;
    const dir = this.#layout.groupDir(hash);
    await mkdir(dir, { recursive: true });
    await writeFileAtomically(this.#layout.metaPath(dir), [Buffer.from(encodeGroupMeta(key))]);
    this.#preparedGroups.add(hash);
  }

  #groupReady(hash: string, key: PageKey): boolean {
    return this.#index.hasGroup(key.fileId, key.version) || this.#preparedGroups.has(hash);
  }

  #leaveGroup(hash: string, key: PageKey): void {
    const writers = (this.#groupWriters.get(hash) ?? 1) - 1;
    if (writers > 0) {
      this.#groupWriters.set(hash, writers);
      return;
    }
    this.#groupWriters.delete(hash);
    this.#preparedGroups.delete(hash); // from now on the index says whether the directory exists
    this.#removeGroupIfEmpty(hash, key);
  }

  /** Removes a (file, version)'s directory once it has no pages and no writes in flight. */
  #removeGroupIfEmpty(hash: string, key: PageKey): void {
    if (this.#index.hasGroup(key.fileId, key.version) || this.#groupWriters.has(hash) || this.#closed) return;
    this.#preparedGroups.delete(hash);
    const dir = this.#layout.groupDir(hash);
    // Queued under the group, so a later write's prepareGroup recreates the directory after this.
    // A directory left behind (on a failing disk) is removed by the next restore.
    void this.#queue.run(hash, () => rm(dir, { recursive: true, force: true })).catch(() => undefined);
  }

  /** Drops a page from the index now; its file goes through the path's queue. */
  #evict(victim: PageKey): Promise<void> {
    this.#index.remove(victim);
    this.#evictions++;
    const done = this.#unlink(this.pathOf(victim));
    this.#removeGroupIfEmpty(this.#layout.groupHash(victim.fileId, victim.version), victim);
    return done;
  }

  /** Marks the writes in flight that `matches` as cancelled; resolves once they have settled. */
  #cancelWrites(matches: (key: PageKey) => boolean): Promise<unknown> {
    const cancelled: Promise<boolean>[] = [];
    for (const write of this.#writes.values()) {
      if (!matches(write.key)) continue;
      write.cancelled = true;
      cancelled.push(write.done);
    }
    return Promise.all(cancelled);
  }

  #dropDamaged(key: PageKey, bytes: number): void {
    if (this.#index.get(key) !== bytes) return; // evicted or replaced meanwhile: not damage
    this.#index.remove(key);
    this.#corruptions++;
    void this.#unlink(this.pathOf(key));
    this.#removeGroupIfEmpty(this.#layout.groupHash(key.fileId, key.version), key);
  }

  async #unlink(path: string): Promise<void> {
    try {
      await this.#queue.run(path, () => unlinkIfPresent(path));
    } catch (error) {
      this.#fail(error, `Cannot remove "${path}"`);
    }
  }

  #fail(error: unknown, attempt: string): void {
    this.#failures++;
    this.#lastError = fromSystemError(error, attempt);
  }

}

function errnoOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}
