import type { UfsStatus } from '../ufs/under-file-system.js';
import { isUnder } from '../mount/dora-path.js';

/** A cached answer about one dora path: its status, or that nothing is there. */
export type CachedStatus = { readonly status: UfsStatus } | { readonly missing: true };

interface Entry<T> {
  readonly value: T;
  readonly at: number;
}

export interface MetadataCacheOptions {
  /** Most entries (statuses and listings together); the least recently used go first. */
  readonly maxEntries: number;
  readonly now?: () => number;
}

/**
 * File statuses and small directory listings by dora path, trusted for a sync interval: -1
 * never re-checks (until invalidated), 0 always re-checks, otherwise milliseconds. Bounded by
 * entry count, least recently used evicted first.
 */
export class MetadataCache {
  readonly #statuses = new Map<string, Entry<CachedStatus>>();
  readonly #listings = new Map<string, Entry<readonly UfsStatus[]>>();
  readonly #options: MetadataCacheOptions;

  constructor(options: MetadataCacheOptions) {
    this.#options = options;
  }

  /** The cached status of `path` while fresh under `syncMs`, else undefined. */
  status(path: string, syncMs: number): CachedStatus | undefined {
    return this.#fresh(this.#statuses, path, syncMs);
  }

  /** The last known status however old (to notice a version change). */
  lastKnown(path: string): UfsStatus | undefined {
    const value = this.#statuses.get(path)?.value;
    return value !== undefined && 'status' in value ? value.status : undefined;
  }

  setStatus(path: string, value: CachedStatus): void {
    this.#set(this.#statuses, path, value);
  }

  /** A whole one-level listing of the directory while fresh, else undefined. */
  listing(path: string, syncMs: number): readonly UfsStatus[] | undefined {
    return this.#fresh(this.#listings, path, syncMs);
  }

  setListing(path: string, entries: readonly UfsStatus[]): void {
    this.#set(this.#listings, path, entries);
  }

  /** Forgets `path`, everything below it, and the listing of its parent. Returns entries dropped. */
  invalidate(path: string): number {
    let dropped = 0;
    for (const map of [this.#statuses, this.#listings] as Map<string, unknown>[]) {
      for (const key of map.keys()) {
        if (isUnder(key, path)) {
          map.delete(key);
          dropped += 1;
        }
      }
    }
    const parent = path === '/' ? undefined : path.slice(0, path.lastIndexOf('/')) || '/';
    if (parent !== undefined && this.#listings.delete(parent)) dropped += 1;
    return dropped;
  }

  /** Forgets one file's status and its parent's listing: cheaper than `invalidate` for a file. */
  forgetFile(path: string): void {
    this.#statuses.delete(path);
    this.#listings.delete(path.slice(0, path.lastIndexOf('/')) || '/');
  }

  get size(): number {
    return this.#statuses.size + this.#listings.size;
  }

  #fresh<T>(map: Map<string, Entry<T>>, path: string, syncMs: number): T | undefined {
    const entry = map.get(path);
    if (entry === undefined || syncMs === 0) return undefined;
    if (syncMs > 0 && this.#now() - entry.at >= syncMs) return undefined;
    map.delete(path); // keep recently used entries last
    map.set(path, entry);
    return entry.value;
  }

  #set<T>(map: Map<string, Entry<T>>, path: string, value: T): void {
    map.delete(path);
    map.set(path, { value, at: this.#now() });
    while (this.size > this.#options.maxEntries) {
      const victimMap = this.#statuses.size >= this.#listings.size ? this.#statuses : this.#listings;
      const oldest = victimMap.keys().next().value;
      if (oldest === undefined) break;
      victimMap.delete(oldest);
    }
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}
