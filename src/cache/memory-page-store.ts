import { DoraError } from '../common/errors.js';
import type { EvictionPolicyFactory } from './eviction-policy.js';
import { checkPageKey } from './check-page-key.js';
import { LruPolicy } from './lru-policy.js';
import { PageIndex } from './page-index.js';
import { checkPageRange, pageSlice } from './page-slice.js';
import type { CachedFileUsage, PageKey, PageStore, PageStoreStats } from './page-store.js';

export interface MemoryPageStoreOptions {
  /** The most data bytes held; Buffer objects and the index are extra (see bench/page-index-bench.ts). */
  readonly capacityBytes: number;
  /** Defaults to least recently used. */
  readonly policy?: EvictionPolicyFactory;
  /** Defaults to 'memory'. */
  readonly name?: string;
}

/**
 * Pages in process memory. Every operation completes synchronously (the promises are for the
 * interface), so no two can interleave. `put` copies the page into its own allocation, so the
 * bytes counted are exactly the bytes held: a page cut from a larger buffer would otherwise keep
 * all of it alive. `get` returns a view of the held copy, not a copy.
 */
export class MemoryPageStore implements PageStore {
  readonly name: string;
  readonly capacityBytes: number;
  readonly #index: PageIndex<Buffer>;
  #evictions = 0;

  constructor(options: MemoryPageStoreOptions) {
    if (!Number.isSafeInteger(options.capacityBytes) || options.capacityBytes < 0) {
      throw new DoraError('INVALID_ARGUMENT', `Cannot create a memory page store of ${options.capacityBytes} bytes: capacity must be a whole number ≥ 0`);
    }
    this.name = options.name ?? 'memory';
    this.capacityBytes = options.capacityBytes;
    const policy = (options.policy ?? (() => new LruPolicy()))();
    this.#index = new PageIndex<Buffer>(policy, (page) => page.length);
  }

  async get(key: PageKey, range?: { offset?: number; length?: number }): Promise<Buffer | undefined> {
    checkPageKey(key, 'read');
    checkPageRange(range, key);
    const page = this.#index.get(key);
    if (page === undefined) return undefined;
    this.#index.touch(key);
    return pageSlice(page, range, key);
  }

  async put(key: PageKey, data: Buffer): Promise<boolean> {
    checkPageKey(key, 'cache');
    if (this.#index.has(key)) {
      this.#index.touch(key);
      return true;
    }
    if (data.length > this.capacityBytes) return false;
    while (this.#index.bytes + data.length > this.capacityBytes) {
      const victim = this.#index.victim();
      if (victim === undefined) break;
      this.#index.remove(victim);
      this.#evictions++;
    }
    // Its own allocation, not Buffer.from (which slices small buffers from a shared 8 KiB pool).
    const copy = Buffer.allocUnsafeSlow(data.length);
    data.copy(copy);
    this.#index.add(key, copy);
    return true;
  }

  has(key: PageKey): boolean {
    return this.#index.has(key);
  }

  touch(key: PageKey): void {
    this.#index.touch(key);
  }

  async delete(key: PageKey): Promise<void> {
    checkPageKey(key, 'delete');
    this.#index.remove(key);
  }

  async deleteFile(fileId: string, options: { keepVersion?: string } = {}): Promise<number> {
    return this.#index.removeFile(fileId, options.keepVersion).length;
  }

  files(prefix: string): CachedFileUsage[] {
    return this.#index.files(prefix);
  }

  stats(): PageStoreStats {
    return { pages: this.#index.pages, bytes: this.#index.bytes, capacityBytes: this.capacityBytes, evictions: this.#evictions };
  }

  /** Nothing survives a restart; close() drops every page. */
  async close(): Promise<void> {
    for (let victim = this.#index.victim(); victim !== undefined; victim = this.#index.victim()) this.#index.remove(victim);
  }
}
