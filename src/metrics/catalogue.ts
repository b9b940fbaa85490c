/**
 * Every metric dora exports, declared once: name, type, labels, help, and which processes export
 * it. Series are created only from these entries (see MetricsRegistry), docs/metrics.md is
 * generated from them, and the Grafana dashboard is checked against them.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec<L extends string = string, T extends MetricType = MetricType> {
  readonly name: string;
  readonly type: T;
  readonly labels: readonly L[];
  readonly help: string;
  /** Processes that export it. */
  readonly on: readonly Role[];
  /** Histogram bucket bounds, in the metric's unit. */
  readonly buckets?: readonly number[];
}

export type Role = 'worker' | 'coordinator' | 'fuse' | 'sdk';

/** Latency buckets for calls that go to a store or over the network (seconds). */
const SLOW_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Latency buckets for calls that are often served from memory (seconds). */
const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const spec = <L extends string, T extends MetricType>(s: MetricSpec<L, T>): MetricSpec<L, T> => s;

export const METRICS = {
  info: spec({ name: 'dora_info', type: 'gauge', labels: ['role', 'version'], help: 'Always 1; labels tell the process role and dora version.', on: ['worker', 'coordinator', 'fuse', 'sdk'] }),

  // The page cache, on workers.
  cachePageRequests: spec({
    name: 'dora_cache_page_requests_total',
    type: 'counter',
    labels: ['mount', 'result'],
    help: 'Pages asked of the cache by readers, by mount and result: hit (in the cache), miss (fetched from the store), joined (waited for a fetch of the same page already under way: coalesced).',
    on: ['worker'],
  }),
  cacheServedBytes: spec({
    name: 'dora_cache_served_bytes_total',
    type: 'counter',
    labels: ['mount', 'source'],
    help: 'Bytes sent to readers, by mount and where they came from: cache (a hit) or store (a miss or joined fetch).',
    on: ['worker'],
  }),
  cacheFetchedBytes: spec({
    name: 'dora_cache_fetched_bytes_total',
    type: 'counter',
    labels: ['mount', 'reason'],
    help: 'Bytes of pages fetched from stores into the cache, by mount and reason: read (a reader missed), readahead, load (a load job or call).',
    on: ['worker'],
  }),
  writtenBytes: spec({
    name: 'dora_worker_written_bytes_total',
    type: 'counter',
    labels: ['mount'],
    help: "Bytes of files written through this worker to stores, by mount: the owner's writes, whichever interface they came in by (worker API, S3 API relayed to the owner, FUSE).",
    on: ['worker'],
  }),
  cacheHitRatio: spec({
    name: 'dora_cache_hit_ratio',
    type: 'gauge',
    labels: ['mount'],
    help: 'Hits over all page requests since the worker started, by mount (for a recent ratio use rate() of dora_cache_page_requests_total).',
    on: ['worker'],
  }),
  tierPages: spec({ name: 'dora_cache_tier_pages', type: 'gauge', labels: ['tier'], help: 'Pages cached, by tier.', on: ['worker'] }),
  tierBytes: spec({ name: 'dora_cache_tier_bytes', type: 'gauge', labels: ['tier'], help: 'Bytes cached, by tier.', on: ['worker'] }),
  tierCapacity: spec({ name: 'dora_cache_tier_capacity_bytes', type: 'gauge', labels: ['tier'], help: 'Byte quota, by tier.', on: ['worker'] }),
  tierEvictions: spec({ name: 'dora_cache_tier_evictions_total', type: 'counter', labels: ['tier'], help: 'Pages evicted to make room, by tier.', on: ['worker'] }),
  tierHits: spec({ name: 'dora_cache_tier_hits_total', type: 'counter', labels: ['tier'], help: 'Page lookups a tier answered, by tier.', on: ['worker'] }),
  tierMisses: spec({ name: 'dora_cache_tier_misses_total', type: 'counter', labels: ['tier'], help: 'Page lookups a tier did not have, by tier.', on: ['worker'] }),

  // Under stores, as workers call them.
  ufsRequests: spec({
    name: 'dora_ufs_requests_total',
    type: 'counter',
    labels: ['mount', 'op', 'outcome'],
    help: 'Calls to under stores, by mount, operation and outcome (ok, or the error code: UNAVAILABLE, DEADLINE_EXCEEDED, NOT_FOUND…).',
    on: ['worker'],
  }),
  ufsLatency: spec({ name: 'dora_ufs_request_seconds', type: 'histogram', labels: ['mount', 'op'], help: 'Latency of calls to under stores (a read: until its first byte), by mount and operation.', on: ['worker'], buckets: SLOW_BUCKETS }),
  ufsReadBytes: spec({ name: 'dora_ufs_read_bytes_total', type: 'counter', labels: ['mount'], help: 'Bytes read from under stores, by mount.', on: ['worker'] }),

  // The interfaces applications use.
  ioLatency: spec({
    name: 'dora_io_seconds',
    type: 'histogram',
    labels: ['interface', 'op'],
    help: 'Latency of whole reads and writes (a read: until its last byte), by interface (sdk, s3, fuse) and op (read, write).',
    on: ['worker', 'fuse', 'sdk'],
    buckets: FAST_BUCKETS,
  }),
  ioBytes: spec({ name: 'dora_io_bytes_total', type: 'counter', labels: ['interface', 'op'], help: 'Bytes read and written by applications, by interface and op.', on: ['worker', 'fuse', 'sdk'] }),
  s3Requests: spec({
    name: 'dora_s3_requests_total',
    type: 'counter',
    labels: ['operation', 'status'],
    help: 'S3 API requests, by operation (GetObject, PutObject…) and HTTP status.',
    on: ['worker'],
  }),
  httpRequests: spec({
    name: 'dora_http_request_seconds',
    type: 'histogram',
    labels: ['route', 'status'],
    help: "Requests to dora's own HTTP APIs (worker API, coordinator REST), by route and status: until the answer is sent.",
    on: ['worker', 'coordinator'],
    buckets: FAST_BUCKETS,
  }),

  // Routing in clients: the S3 API's client on workers, FUSE daemons, SDK clients given a registry.
  routing: spec({
    name: 'dora_routing_events_total',
    type: 'counter',
    labels: ['event'],
    help: 'Routing of calls to owner workers: failover (another replica served), fallback (the store served, no worker could), membership-change (the ring was rebuilt).',
    on: ['worker', 'fuse', 'sdk'],
  }),

  // The coordinator.
  mounts: spec({ name: 'dora_mounts', type: 'gauge', labels: [], help: 'Mount points in the namespace.', on: ['coordinator'] }),
  workers: spec({ name: 'dora_workers', type: 'gauge', labels: ['state'], help: 'Workers known to the coordinator, by state (live, decommissioning).', on: ['coordinator'] }),
  membershipChanges: spec({ name: 'dora_membership_changes_total', type: 'counter', labels: ['change'], help: 'Workers that joined or left the cluster, as the coordinator saw it.', on: ['coordinator'] }),
  leader: spec({ name: 'dora_coordinator_leader', type: 'gauge', labels: [], help: '1 while this coordinator is the active leader (it runs the jobs).', on: ['coordinator'] }),
  jobs: spec({ name: 'dora_jobs', type: 'gauge', labels: ['kind', 'state'], help: 'Jobs kept by the leader, by kind (load, free, copy, move) and state.', on: ['coordinator'] }),
  jobFiles: spec({
    name: 'dora_job_files',
    type: 'gauge',
    labels: ['id', 'kind', 'count'],
    help: 'Files of each job under way (running or verifying), by count: total (listed so far), done, failed, skipped.',
    on: ['coordinator'],
  }),
  jobBytes: spec({ name: 'dora_job_bytes', type: 'gauge', labels: ['id', 'kind'], help: 'Bytes each job under way (running or verifying) has moved so far.', on: ['coordinator'] }),
} as const;

/** Series every process also exports: Node.js and process figures from prom-client, prefixed `dora_`. */
export const PROCESS_METRICS_PREFIX = 'dora_';
export const PROCESS_METRICS_EXAMPLES = [
  'dora_process_resident_memory_bytes',
  'dora_process_cpu_seconds_total',
  'dora_nodejs_heap_size_used_bytes',
  'dora_nodejs_eventloop_lag_seconds',
  'dora_nodejs_eventloop_lag_p99_seconds',
  'dora_nodejs_active_handles_total',
] as const;
