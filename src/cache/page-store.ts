/**
 * Where cached pages live: one tier (memory, or one disk directory) with a byte quota.
 *
 * A page is a fixed-size slice of one version of one file (the last page of a file may be
 * shorter). Keys are opaque to the store except for `fileId`, which lets it drop every page of
 * a file at once. A miss is a value (`undefined`), never an error. The store evicts by its
 * policy so its bytes never exceed `capacityBytes`; a page larger than the quota is refused.
 */
export interface PageStore {
  /** e.g. 'memory', 'disk:0'. */
  readonly name: string;
  readonly capacityBytes: number;

  /**
   * The page's bytes [offset, offset + length), clamped to the page (an offset at or past its end
   * gives an empty buffer), or undefined on a miss. A page that fails its checksum is dropped and
   * reported as a miss. Counts as a use for eviction. The buffer may share memory with the cache:
   * callers must not modify it. Rejects with INVALID_ARGUMENT for a negative or fractional offset
   * or length, or a page index out of range; never for I/O failures, which are misses.
   */
  get(key: PageKey, range?: { offset?: number; length?: number }): Promise<Buffer | undefined>;

  /**
   * Stores a page, evicting others as needed. Returns false (and stores nothing) when it cannot:
   * the page is larger than the quota, or the tier failed (disk full, unwritable directory).
   * Never throws for those: a cache that cannot cache degrades to a miss. Idempotent: a page's
   * bytes never change for its key, so putting a present page only counts as a use. The store
   * keeps its own copy or file, so the caller may reuse `data` once the promise settles. Rejects
   * with INVALID_ARGUMENT only for a page index out of its range (see PageKey.index).
   */
  put(key: PageKey, data: Buffer): Promise<boolean>;

  /** Whether the page is present, without counting as a use. */
  has(key: PageKey): boolean;

  /**
   * Records a use of the page for eviction without reading it; a no-op when it is absent.
   * Optional: a tiered store calls it on its lower tiers when a faster tier serves a page, so a
   * page kept hot in memory does not look cold on disk and get evicted there first.
   */
  touch?(key: PageKey): void;

  /** Drops one page. Idempotent. */
  delete(key: PageKey): Promise<void>;

  /** Drops every page of a file, of every version except `keepVersion` when given. Returns pages dropped. */
  deleteFile(fileId: string, options?: { keepVersion?: string }): Promise<number>;

  /** The files with pages here whose id starts with `prefix`, with how much of each is held (all versions). */
  files(prefix: string): CachedFileUsage[];

  /** Current usage. */
  stats(): PageStoreStats;

  /** Flushes what must survive a restart and releases handles. */
  close(): Promise<void>;
}

/** Identifies a page: (file identity, file version, page index). */
export interface PageKey {
  /** The file's identity: its full store URI. */
  readonly fileId: string;
  /** The file's version (ETag, or mtime+size): pages of different versions never mix. */
  readonly version: string;
  /** The page's position in the file: a whole number from 0 to 2³² − 2 (4 PiB of 1 MiB pages). */
  readonly index: number;
}

/** How much of one file a store holds. */
export interface CachedFileUsage {
  readonly fileId: string;
  readonly pages: number;
  readonly bytes: number;
}

export interface PageStoreStats {
  readonly pages: number;
  readonly bytes: number;
  readonly capacityBytes: number;
  /** Pages evicted since start. */
  readonly evictions: number;
}

/** A string form of a key, for maps. */
export function pageKeyString(key: PageKey): string {
  return `${key.index}\u0000${key.version}\u0000${key.fileId}`;
}
