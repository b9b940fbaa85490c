import { crc32 } from 'node:zlib';
import { checkPageKey } from './check-page-key.js';
import { checkPageRange, pageSlice } from './page-slice.js';
import { pageKeyString, type CachedFileUsage, type PageKey, type PageStore, type PageStoreStats } from './page-store.js';

export interface TieredPageStoreOptions {
  /**
   * The front tier (memory) first, then the back tiers (disks). With one tier it is used alone;
   * with none, nothing is cached.
   */
  readonly tiers: readonly PageStore[];
  /** Defaults to 'tiered'. */
  readonly name?: string;
}

/** One tier's usage and how often the tiered store found pages in it. */
export interface TierStats extends PageStoreStats {
  readonly name: string;
  /** Lookups this tier answered. */
  readonly hits: number;
  /** Lookups this tier was asked and did not answer. */
  readonly misses: number;
}

/**
 * A front tier (memory) over back tiers (disks), as one page store. Each page is written to the
 * front tier and to one back tier picked by a hash of its key, so pages spread over the disks and
 * survive a restart; a read tries the front tier, then the back tier that holds the page, and
 * copies a back-tier hit into the front tier. Reads served by the front tier are passed on as
 * `touch` to the back tiers, so their eviction order follows real use.
 *
 * `stats()` sums the tiers: a page held in memory and on disk counts twice, and `deleteFile`
 * returns the pages dropped summed the same way, so it always equals the fall in `stats().pages`.
 */
export class TieredPageStore implements PageStore {
  readonly name: string;
  readonly capacityBytes: number;
  readonly tiers: readonly PageStore[];
  readonly #hits: number[];
  readonly #misses: number[];

  constructor(options: TieredPageStoreOptions) {
    this.name = options.name ?? 'tiered';
    this.tiers = [...options.tiers];
    this.capacityBytes = this.tiers.reduce((sum, t) => sum + t.capacityBytes, 0);
    this.#hits = this.tiers.map(() => 0);
    this.#misses = this.tiers.map(() => 0);
  }

  async get(key: PageKey, range?: { offset?: number; length?: number }): Promise<Buffer | undefined> {
    checkPageKey(key, 'read');
    checkPageRange(range, key);
    const [front, ...back] = this.tiers;
    if (front === undefined) return undefined;
    const hit = await front.get(key, range);
    if (hit !== undefined) {
      this.#hits[0]!++;
      for (const tier of back) tier.touch?.(key);
      return hit;
    }
    this.#misses[0]!++;
    const home = this.#home(key);
    if (home === undefined) return undefined;
    // The page's own back tier first; then any other that holds it (disks added or removed since it was written).
    for (const i of [home, ...back.map((_, n) => n + 1).filter((n) => n !== home)]) {
      const tier = this.tiers[i]!;
      const page = tier.has(key) ? await tier.get(key) : undefined;
      if (page === undefined) {
        if (i === home) this.#misses[i]!++; // the others were only asked in case they held it
        continue;
      }
      this.#hits[i]!++;
      await front.put(key, page);
      return pageSlice(page, range, key);
    }
    return undefined;
  }

  /** True when the front tier or the page's back tier stored it. */
  async put(key: PageKey, data: Buffer): Promise<boolean> {
    checkPageKey(key, 'cache');
    const targets = this.tiers.length === 0 ? [] : [0, this.#home(key)].filter((i): i is number => i !== undefined);
    const stored = await Promise.all(targets.map((i) => this.tiers[i]!.put(key, data)));
    return stored.includes(true);
  }

  has(key: PageKey): boolean {
    return this.tiers.some((t) => t.has(key));
  }

  touch(key: PageKey): void {
    for (const tier of this.tiers) tier.touch?.(key);
  }

  async delete(key: PageKey): Promise<void> {
    checkPageKey(key, 'delete');
    await Promise.all(this.tiers.map((t) => t.delete(key)));
  }

  async deleteFile(fileId: string, options: { keepVersion?: string } = {}): Promise<number> {
    const dropped = await Promise.all(this.tiers.map((t) => t.deleteFile(fileId, options)));
    return dropped.reduce((sum, n) => sum + n, 0);
  }

  /** Summed over the tiers, like `stats()`: a page in memory and on disk counts twice. */
  files(prefix: string): CachedFileUsage[] {
    const merged = new Map<string, CachedFileUsage>();
    for (const file of this.tiers.flatMap((t) => t.files(prefix))) {
      const seen = merged.get(file.fileId);
      merged.set(file.fileId, seen === undefined ? file : { fileId: file.fileId, pages: seen.pages + file.pages, bytes: seen.bytes + file.bytes });
    }
    return [...merged.values()];
  }

  stats(): PageStoreStats {
    const all = this.tiers.map((t) => t.stats());
    const sum = (pick: (s: PageStoreStats) => number): number => all.reduce((total, s) => total + pick(s), 0);
    return { pages: sum((s) => s.pages), bytes: sum((s) => s.bytes), capacityBytes: sum((s) => s.capacityBytes), evictions: sum((s) => s.evictions) };
  }

  /** Each tier's own stats (with any fields of its own, such as a disk's failures) plus hits and misses here. */
  tierStats(): TierStats[] {
    return this.tiers.map((t, i) => ({ ...t.stats(), name: t.name, hits: this.#hits[i]!, misses: this.#misses[i]! }));
  }

  async close(): Promise<void> {
    await Promise.all(this.tiers.map((t) => t.close()));
  }

  /** The back tier a page is written to: spread by a hash of its key. Undefined without back tiers. */
  #home(key: PageKey): number | undefined {
    const backTiers = this.tiers.length - 1;
    return backTiers < 1 ? undefined : 1 + (crc32(pageKeyString(key)) % backTiers);
  }
}
