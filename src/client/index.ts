/** The dora client SDK: `new DoraClient({ address })`, then file, cache and mount operations. */
export { DoraClient } from './dora-client.js';
export { DEFAULT_ADDRESS, type CallOptions, type ClientEvent, type DoraClientOptions, type IoEvent, type ListOptions, type ReadOptions, type StatOptions, type WriteOptions } from './client-options.js';
export type { CacheSummary, CacheTierSummary, ClientStats, ClusterCacheSummary, FileKind, FileStatus, WorkerCacheSummary, WorkerInfo } from './client-types.js';
export type { ClusterHistoryView, ClusterSummary, ClusterTotals, HistoryPoint, WorkerSummary } from './cluster-summary-types.js';
export { ClientMetrics } from '../metrics/client-metrics.js';
export { MetricsRegistry } from '../metrics/metrics-registry.js';
export type { WorkerSelector, RingMember } from '../hash/worker-selector.js';
export { ConsistentHashSelector } from '../hash/consistent-hash-selector.js';
export type { SelectorFactory } from './cluster-view.js';
export type { FallbackMount } from './store-fallback.js';
export type { MountInfo, MountRequest, WriteType } from '../mount/mount-info.js';
export { DoraError, isDoraError, type ErrorCode } from '../common/errors.js';
