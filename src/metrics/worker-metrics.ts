import type { CacheEvent } from '../cache/cache-manager.js';
import type { ClientEvent } from '../client/client-options.js';
import type { UfsCallEvent } from '../ufs/wrappers/with-metrics.js';
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

export interface CacheTotals {
  readonly hits: number;
  readonly misses: number;
  readonly bytesFromCache: number;
  readonly bytesFromStore: number;
}

/**
 * The worker's Prometheus series: page cache hits and misses, bytes served from cache and from
 * the store, store requests by operation and outcome with latency, and each tier's pages, bytes
 * and evictions.
 */
export class WorkerMetrics {
  readonly registry: MetricsRegistry;
  readonly #pages;
  readonly #bytes;
  readonly #readAhead;
  readonly #ufsRequests;
  readonly #ufsLatency;
  readonly #ufsBytes;
  readonly #routing;
  readonly #totals = { hits: 0, misses: 0, bytesFromCache: 0, bytesFromStore: 0 };

  constructor(tiers: () => readonly TierFigures[], registry: MetricsRegistry = new MetricsRegistry()) {
    this.registry = registry;
    this.#pages = registry.counter('dora_cache_page_requests_total', 'Page lookups, by result (hit or miss).', ['result']);
    this.#bytes = registry.counter('dora_cache_bytes_total', 'Bytes of pages served, by source (cache, or fetched from the store).', ['source']);
    this.#readAhead = registry.counter('dora_cache_readahead_pages_total', 'Pages fetched ahead of sequential readers.');
    this.#ufsRequests = registry.counter('dora_ufs_requests_total', 'Calls to under stores, by operation, outcome and scheme.', ['op', 'outcome', 'scheme']);
    this.#ufsLatency = registry.histogram('dora_ufs_request_seconds', 'Latency of calls to under stores.', ['op', 'scheme'], [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]);
    this.#ufsBytes = registry.counter('dora_ufs_bytes_read_total', 'Bytes read from under stores.', ['scheme']);
    this.#routing = registry.counter(
      'dora_routing_events_total',
      'Routing of S3 requests to owner workers: failover (another worker served), fallback (the store served), membership-change (the ring was rebuilt).',
      ['event'],
    );
    const each = (pick: (t: TierFigures) => number | undefined) => (): Array<[{ tier: string }, number]> =>
      tiers().flatMap((t) => (pick(t) === undefined ? [] : [[{ tier: t.name }, pick(t) ?? 0] as [{ tier: string }, number]]));
    registry.gauge('dora_cache_tier_pages', 'Pages cached, by tier.', ['tier'], each((t) => t.pages));
    registry.gauge('dora_cache_tier_bytes', 'Bytes cached, by tier.', ['tier'], each((t) => t.bytes));
    registry.gauge('dora_cache_tier_capacity_bytes', 'Byte quota, by tier.', ['tier'], each((t) => t.capacityBytes));
    registry.gauge('dora_cache_tier_evictions_total', 'Pages evicted since start, by tier.', ['tier'], each((t) => t.evictions));
    registry.gauge('dora_cache_tier_hits_total', 'Page hits, by tier.', ['tier'], each((t) => t.hits));
    registry.gauge('dora_cache_tier_misses_total', 'Page misses, by tier.', ['tier'], each((t) => t.misses));
  }

  /** Totals since start, for the cache summary. */
  totals(): CacheTotals {
    return { ...this.#totals };
  }

  /** For CacheManager's `observe`. */
  onCache(event: CacheEvent): void {
    if (event.kind === 'hit') {
      this.#pages.inc({ result: 'hit' });
      this.#bytes.inc({ source: 'cache' }, event.bytes);
      this.#totals.hits += 1;
      this.#totals.bytesFromCache += event.bytes;
    } else if (event.kind === 'miss') {
      this.#pages.inc({ result: 'miss' });
      this.#totals.misses += 1;
    } else if (event.kind === 'fetch') {
      this.#bytes.inc({ source: 'store' }, event.bytes);
      this.#totals.bytesFromStore += event.bytes;
    } else {
      this.#readAhead.inc(event.pages);
    }
  }

  /** For the routing client's `observe`. */
  onRouting(event: ClientEvent): void {
    this.#routing.inc({ event });
  }

  /** For `withMetrics`' observer. */
  onUfsCall(event: UfsCallEvent): void {
    const scheme = event.uri.slice(0, event.uri.indexOf(':'));
    if (event.op === 'read.stream') {
      this.#ufsBytes.inc({ scheme }, event.bytes ?? 0);
      return;
    }
    this.#ufsRequests.inc({ op: event.op, outcome: event.outcome, scheme });
    this.#ufsLatency.observe({ op: event.op, scheme }, event.durationMs / 1000);
  }

}
