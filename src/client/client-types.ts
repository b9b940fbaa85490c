/**
 * What the SDK hands back: the shapes of the worker and coordinator HTTP APIs
 * (docs/worker-api.md), read-only.
 */

export type FileKind = 'file' | 'directory';

/** A file or directory in the dora namespace. */
export interface FileStatus {
  /** Canonical dora path, e.g. '/sales/q1.csv'. */
  readonly path: string;
  /** The last path segment ('/' for the root). */
  readonly name: string;
  readonly kind: FileKind;
  /** Bytes; 0 for a directory. */
  readonly size: number;
  /** Last modification in ms since the epoch; 0 where the store keeps none. */
  readonly mtimeMs: number;
  /** What cached bytes are keyed by (the store's ETag, or mtime+size); '' for directories. */
  readonly version: string;
  /** The mount point holding the path, e.g. '/sales'. */
  readonly mount: string;
  /** The content's MD5 (hex), or the store's ETag, where known. */
  readonly etag?: string;
  /** The content type the file was written with, where the store keeps it. */
  readonly contentType?: string;
  /** User metadata; present when asked for (`stat` with `attributes`), absent in listings. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A worker as the coordinator lists it. */
export interface WorkerInfo {
  readonly id: string;
  /** Base URL of the worker's internal API, e.g. 'http://127.0.0.1:29999'. */
  readonly address: string;
  /** Base URL of the worker's S3-compatible API, where it serves one. */
  readonly s3Address?: string;
  /** 'live', or 'decommissioning' (off the ring for new reads, finishing running ones). */
  readonly state: string;
  /** When this run of the worker started (ms since the epoch). */
  readonly startedAt?: number;
  /** Bytes its page store may hold over all tiers. */
  readonly capacityBytes?: number;
}

export interface CacheTierSummary {
  readonly name: string;
  readonly pages: number;
  readonly bytes: number;
  readonly capacityBytes: number;
  readonly evictions: number;
  readonly hits: number;
  readonly misses: number;
}

/** What loading a file into a worker's cache did (a load job's unit of work). */
export interface LoadedFile {
  readonly path: string;
  /** The version cached: the file's at the time of the load. */
  readonly version: string;
  readonly size: number;
  /** Pages the file has, and how many of them this load fetched from the store (the rest were cached already). */
  readonly pages: number;
  readonly pagesFetched: number;
  /** Bytes fetched from the store. */
  readonly bytesFetched: number;
}

/** One file of a batch load: what was loaded, or the failure as `DoraError.toJSON` gives it. */
export type BatchLoaded = { readonly path: string } & (
  | { readonly loaded: LoadedFile; readonly error?: undefined }
  | { readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean }; readonly loaded?: undefined }
);

/** What freeing a path dropped: cached files, their pages and bytes (a page in memory and on disk counts twice). */
export interface FreedCache {
  readonly files: number;
  readonly pages: number;
  readonly bytes: number;
}

/** One worker's page cache. */
export interface CacheSummary {
  readonly pageSize: number;
  readonly tiers: readonly CacheTierSummary[];
  /** Pages and bytes held, over all tiers, and the byte quota. */
  readonly pages: number;
  readonly bytes: number;
  readonly capacityBytes: number;
  /** Pages readers found in the cache since the worker started. */
  readonly hits: number;
  /** Pages readers waited for the store for: fetched, or joined to a fetch under way. */
  readonly misses: number;
  /** Of the misses, those that joined a fetch already under way (coalesced). */
  readonly joined: number;
  /** Bytes sent to readers from the cache, and those that had to come from the store. */
  readonly bytesFromCache: number;
  readonly bytesFromStore: number;
  /** Bytes fetched from stores into the cache: misses, read-ahead and loads. */
  readonly bytesFetched: number;
  /** Bytes of files written through the worker to stores. */
  readonly bytesWritten: number;
}

/** One worker's entry in the coordinator's summary: its cache, or why it could not be asked. */
export type WorkerCacheSummary = { readonly id: string } & (CacheSummary | { readonly error: { readonly code: string; readonly message: string } });

/** Every worker's page cache, as the coordinator gathers them. */
export interface ClusterCacheSummary {
  readonly workers: readonly WorkerCacheSummary[];
}

/** Counters of one client since it was created. */
export interface ClientStats {
  /** Operations (or the rest of a read) served straight from the store because a worker could not be reached. */
  readonly fallbacks: number;
  /** Calls (or the rest of a read) served by another worker because the first did not answer. */
  readonly failovers: number;
  /** Reads retried because the file changed in the store before any byte was delivered. */
  readonly readRetries: number;
  /** Times the live worker set changed (and the hash ring was rebuilt). */
  readonly membershipChanges: number;
}
