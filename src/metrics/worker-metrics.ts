import type { CacheEvent } from '../cache/cache-manager.js';
import type { S3RequestEvent } from '../s3/s3-server.js';
import type { UfsCallEvent } from '../ufs/wrappers/with-metrics.js';
import { METRICS } from './catalogue.js';
import { ClientMetrics } from './client-metrics.js';
import { MetricsRegistry } from './metrics-registry.js';

/** One tier's figures at scrape time. */
export interface TierFigures {
  readonly name: string;
  readonly pages: number;
  readonly bytes: number;
  readonly capacityBytes: number;
  readonly evictions: number;
  readonly hits?: number;
  readonly misses?: number;
}

/** A worker's cache counters since it started (the cache summary, `GET /v1/cache`). */
export interface CacheTotals {
  /** Pages readers found in the cache. */
  readonly hits: number;
  /** Pages readers waited for the store for (fetched, or joined to a fetch under way). */
  readonly misses: number;
  /** Of the misses, those that joined a fetch already under way (coalesced). */
  readonly joined: number;
  /** Bytes sent to readers from the cache. */
  readonly bytesFromCache: number;
  /** Bytes sent to readers that had to come from the store. */
  readonly bytesFromStore: number;
  /** Bytes fetched from stores into the cache (misses, read-ahead and loads). */
  readonly bytesFetched: number;
  /** Bytes of files written through this worker to stores. */
  readonly bytesWritten: number;
}

/**
 * The worker's Prometheus series (see the catalogue): the page cache by mount and tier, the
 * stores by mount and operation, and what the worker's S3 API and its routing client do.
 */
export class WorkerMetrics {
  readonly registry: MetricsRegistry;
  /** The S3 API's reads and writes and its client's routing. */
  readonly s3: ClientMetrics;
  readonly #pages;
  readonly #served;
  readonly #fetched;
  readonly #ufsRequests;
  readonly #ufsLatency;
  readonly #ufsBytes;
  readonly #s3Requests;
  readonly #written;
  readonly #totals = { hits: 0, misses: 0, joined: 0, bytesFromCache: 0, bytesFromStore: 0, bytesFetched: 0, bytesWritten: 0 };
  /** Hits and lookups by mount, for the hit ratio. */
  readonly #byMount = new Map<string, { hits: number; all: number }>();

  constructor(tiers: () => readonly TierFigures[], registry: MetricsRegistry = new MetricsRegistry({ role: 'worker' })) {
    this.registry = registry;
    this.s3 = new ClientMetrics(registry, 's3');
    this.#pages = registry.counter(METRICS.cachePageRequests);
    this.#served = registry.counter(METRICS.cacheServedBytes);
    this.#fetched = registry.counter(METRICS.cacheFetchedBytes);
    this.#written = registry.counter(METRICS.writtenBytes);
    this.#ufsRequests = registry.counter(METRICS.ufsRequests);
    this.#ufsLatency = registry.histogram(METRICS.ufsLatency);
    this.#ufsBytes = registry.counter(METRICS.ufsReadBytes);
    this.#s3Requests = registry.counter(METRICS.s3Requests);
    registry.gauge(METRICS.cacheHitRatio, () => [...this.#byMount].map(([mount, n]) => [{ mount }, n.all === 0 ? 0 : n.hits / n.all] as const));
    const each = (pick: (t: TierFigures) => number | undefined) => () =>
      tiers().flatMap((t) => {
        const value = pick(t);
        return value === undefined ? [] : [[{ tier: t.name }, value] as const];
      });
    registry.gauge(METRICS.tierPages, each((t) => t.pages));
    registry.gauge(METRICS.tierBytes, each((t) => t.bytes));
    registry.gauge(METRICS.tierCapacity, each((t) => t.capacityBytes));
    registry.counterFrom(METRICS.tierEvictions, each((t) => t.evictions));
    registry.counterFrom(METRICS.tierHits, each((t) => t.hits));
    registry.counterFrom(METRICS.tierMisses, each((t) => t.misses));
  }

  /** Totals since start, for the cache summary. */
  totals(): CacheTotals {
    return { ...this.#totals };
  }

  /** For CacheManager's `observe`. */
  onCache(event: CacheEvent): void {
    const mount = event.file.mount ?? '';
    if (event.kind === 'read') {
      const hit = event.result === 'hit';
      this.#pages.inc({ mount, result: event.result });
      this.#served.inc({ mount, source: hit ? 'cache' : 'store' }, event.bytes);
      let n = this.#byMount.get(mount);
      if (n === undefined) this.#byMount.set(mount, (n = { hits: 0, all: 0 }));
      n.all += 1;
      if (hit) {
        n.hits += 1;
        this.#totals.hits += 1;
        this.#totals.bytesFromCache += event.bytes;
      } else {
        this.#totals.misses += 1;
        this.#totals.bytesFromStore += event.bytes;
        if (event.result === 'joined') this.#totals.joined += 1;
      }
    } else {
      this.#fetched.inc({ mount, reason: event.reason }, event.bytes);
      this.#totals.bytesFetched += event.bytes;
    }
  }

  /** For WorkerService's `onWritten`: a file the store now has. */
  onWritten(mount: string, bytes: number): void {
    this.#written.inc({ mount }, bytes);
    this.#totals.bytesWritten += bytes;
  }

  /** For the S3 API's `observe`: every request, and object reads and writes as the S3 interface's I/O. */
  onS3Request(event: S3RequestEvent): void {
    this.#s3Requests.inc({ operation: event.operation, status: String(event.status) });
    const ok = event.status < 300;
    if (event.operation === 'GetObject') this.s3.observeIo({ op: 'read', seconds: event.seconds, bytes: ok ? event.bytesOut : 0, ok });
    else if (event.operation === 'PutObject' || event.operation === 'UploadPart') this.s3.observeIo({ op: 'write', seconds: event.seconds, bytes: ok ? event.bytesIn : 0, ok });
  }

  /** For `withMetrics`' observer on the store of the mount at `mount`. */
  onUfsCall(mount: string, event: UfsCallEvent): void {
    if (event.op === 'read.stream') {
      this.#ufsBytes.inc({ mount }, event.bytes ?? 0);
      return;
    }
    this.#ufsRequests.inc({ mount, op: event.op, outcome: event.outcome });
    this.#ufsLatency.observe({ mount, op: event.op }, event.durationMs / 1000);
  }
}
