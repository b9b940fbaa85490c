import type { WorkerApi } from './worker-api.js';
import type { UfsOptions, UfsRegistry } from '../ufs/ufs-registry.js';
import type { FallbackMount } from './store-fallback.js';
import type { ClusterSource, SelectorFactory } from './cluster-view.js';

/** Options of DoraClient and of its calls. */

/** What a client reports as it routes: another worker served a call, the store did, or the live set changed. */
export type ClientEvent = 'failover' | 'fallback' | 'membership-change';

/** A whole read (until its last byte, or its failure) or write, as the application saw it. */
export interface IoEvent {
  readonly op: 'read' | 'write';
  readonly seconds: number;
  /** Bytes delivered or written (0 for a failed write). */
  readonly bytes: number;
  readonly ok: boolean;
}

export const DEFAULT_ADDRESS = 'http://127.0.0.1:19999';

export interface DoraClientOptions {
  /** The coordinator's URL; default `http://127.0.0.1:19999`. `host:port` means `http://host:port`. */
  address?: string | undefined;
  /** Opens stores for fallback reads; default every built-in backend. */
  registry?: UfsRegistry | undefined;
  /** Read, stat and list straight from the store when no worker answers; default true. */
  fallback?: boolean | undefined;
  /**
   * The mounts fallback resolves paths with, with their full options. Default: the coordinator's
   * table, whose secret options are redacted (the store then uses its default credential chain).
   */
  fallbackMounts?: readonly FallbackMount[] | undefined;
  /** Store options (credentials) to add when fallback opens a mount's store. */
  resolveCredentials?: ((mount: FallbackMount) => UfsOptions | Promise<UfsOptions>) | undefined;
  /** Told of each failover, fallback and membership change as it happens (for metrics). */
  observe?: ((event: ClientEvent) => void) | undefined;
  /** Told of each whole read and write as it ends (for metrics of the interface the client serves). */
  observeIo?: ((event: IoEvent) => void) | undefined;
  /** Learn workers and mounts from here rather than from the coordinator (a client inside a worker). */
  source?: ClusterSource | undefined;
  /** A worker in this process, called directly rather than over HTTP (a FUSE mount beside it). */
  inProcess?: { readonly address: string; readonly api: WorkerApi } | undefined;
  /** Builds the worker selector from the live workers; default a consistent-hash ring. */
  selector?: SelectorFactory | undefined;
  /** Virtual nodes per worker on the default ring; every client of a cluster must agree. */
  virtualNodes?: number | undefined;
  /** How long the worker list and mount table are cached; default 3 s. */
  clusterTtlMs?: number | undefined;
  /** How long opening a connection may take; default 5 s. */
  connectTimeoutMs?: number | undefined;
  /** How long a server may stay silent mid-call before it counts as unreachable; default 2 min. */
  idleTimeoutMs?: number | undefined;
}

/** Every call takes an AbortSignal; an abort fails the call with CANCELLED. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface ListOptions extends CallOptions {
  /** Every file below the directory instead of one level. */
  recursive?: boolean | undefined;
  /** Only entries whose path sorts after this dora path (resume a listing). */
  startAfter?: string | undefined;
  /** Entries asked of the worker per page; default the worker's (1000). */
  pageSize?: number | undefined;
}

export interface ReadOptions extends CallOptions {
  /** Workers the read may be served by (the first N on the ring); default the mount's replicas. */
  replicas?: number | undefined;
  /** Read exactly this version of the file (from `stat`): ABORTED if it changed, never a mix. */
  version?: string | undefined;
  offset?: number | undefined;
  /** Most bytes to read; default to the end of the file. */
  length?: number | undefined;
}

export interface WriteOptions extends CallOptions {
  /** The exact length of the source, when known (a stream's is then checked). */
  size?: number | undefined;
  /** `CACHE_THROUGH` or `THROUGH`; default the mount's. */
  writeType?: string | undefined;
  /** Kept with the file where the store can keep it (natively or in a sidecar). */
  contentType?: string | undefined;
  /** User metadata, names in lower case. */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** Tags for the new file, where the store keeps tags. */
  tags?: Readonly<Record<string, string>> | undefined;
}

export interface StatOptions extends CallOptions {
  /** Also fetch the content type and user metadata (a cached listing entry lacks them). */
  attributes?: boolean | undefined;
}
