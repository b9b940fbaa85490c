import { join, resolve } from 'node:path';
import { CacheManager } from '../cache/cache-manager.js';
import { DiskPageStore } from '../cache/disk-page-store.js';
import { MemoryPageStore } from '../cache/memory-page-store.js';
import type { PageStore } from '../cache/page-store.js';
import { TieredPageStore } from '../cache/tiered-page-store.js';
import type { DoraConfig } from '../conf/config-keys.js';
import type { InFlight } from '../http/in-flight.js';
import { JsonServer } from '../http/json-server.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { CacheSummary } from '../client/client-types.js';
import type { MountTable } from '../mount/mount-table.js';
import { noteCacheEvent } from '../observe/cache-span.js';
import { MetadataCache } from './metadata-cache.js';
import { addWorkerRoutes } from './worker-routes.js';
import { WorkerService } from './worker-service.js';

export interface WorkerNode {
  readonly url: string;
  /** Requests the worker API is serving now (a draining worker waits for none). */
  readonly inFlight: InFlight;
  readonly service: WorkerService;
  readonly metrics: WorkerMetrics;
  readonly cache: CacheManager;
  cacheSummary(): CacheSummary;
  stop(): Promise<void>;
}


/**
 * A worker: its page store (a memory tier and disk tiers under the data directory), cache
 * manager, metadata cache and HTTP API, serving the namespace of `mounts`.
 */
export async function startWorkerNode(
  config: DoraConfig,
  deps: { mounts: MountTable; metrics?: WorkerMetrics; decommission?: () => Promise<unknown> },
): Promise<WorkerNode> {
  const dataDir = resolve(config.dataDir);
  const store = await openPageStore(config, dataDir);
  const metrics = deps.metrics ?? new WorkerMetrics(() => store.tierStats());
  const cache = new CacheManager({
    store,
    pageSize: config.cache.pageSize,
    readAheadPages: config.cache.readAheadPages,
    maxReadAheadFetches: config.cache.readAheadConcurrency,
    observe: (event) => {
      metrics.onCache(event);
      noteCacheEvent(event);
    },
  });
  const service = new WorkerService({
    mounts: deps.mounts,
    cache,
    metadata: new MetadataCache({ maxEntries: config.metadata.maxEntries }),
    defaultSyncMs: config.metadata.syncInterval,
    spoolDir: join(dataDir, 'spool'),
    onWritten: (mount, bytes) => metrics.onWritten(mount, bytes),
  });
  const cacheSummary = (): CacheSummary => {
    const stats = store.stats();
    return {
      pageSize: config.cache.pageSize,
      tiers: store.tierStats(),
      pages: stats.pages,
      bytes: stats.bytes,
      capacityBytes: stats.capacityBytes,
      ...metrics.totals(),
    };
  };
  const server = addWorkerRoutes(new JsonServer({ name: 'worker', metrics: metrics.registry, slowRequestMs: config.log.slowRequest }), service, { metrics: metrics.registry, cacheSummary, decommission: deps.decommission });
  const url = await server.listen(config.worker.port, config.host);
  return {
    url,
    inFlight: server.inFlight,
    service,
    metrics,
    cache,
    cacheSummary,
    async stop() {
      await server.close();
      await cache.flush({ untilIdle: true }); // pages fetched but not yet on disk would be lost to the next start
      await store.close();
    },
  };
}

async function openPageStore(config: DoraConfig, dataDir: string): Promise<TieredPageStore> {
  // The memory tier is always the front tier (a 0-byte one keeps nothing), so each page goes to
  // memory and to exactly one disk.
  const tiers: PageStore[] = [new MemoryPageStore({ capacityBytes: config.cache.memory.capacity, name: 'memory' })];
  if (config.cache.disk.capacity > 0) {
    const dirs = config.cache.disk.dirs.length > 0 ? config.cache.disk.dirs : [join(dataDir, 'cache')];
    for (const [i, dir] of dirs.entries()) {
      tiers.push(await DiskPageStore.open({ dir: resolve(dir), capacityBytes: config.cache.disk.capacity, name: `disk:${i}` }));
    }
  }
  return new TieredPageStore({ tiers });
}
