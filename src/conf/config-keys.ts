/**
 * Every configuration key dora reads, declared once: dotted name, type, default, bounds and a
 * one-line description. To add a key, add an entry here; its environment variable
 * (`ufs.retry.maxAttempts` → `DORA_UFS_RETRY_MAX_ATTEMPTS`), flag, YAML path, parsing, typed
 * field on `DoraConfig` and `dora conf get` row all follow from it.
 *
 * Sizes are bytes and durations milliseconds. A dotted name must not be the prefix of another.
 */
import type { ConfigKeyTable, ConfigTree } from './config-types.js';
import { MiB, GiB, SECOND } from './units.js';

const PORT = { type: 'int', min: 0, max: 65535 } as const;

export const CONFIG_KEYS = {
  dataDir: { type: 'string', default: './dora-data', description: 'Directory where dora keeps its state.' },
  'mountTable.file': {
    type: 'string',
    default: '',
    description: 'Mount table file; empty means <dataDir>/mounts.json.',
  },

  'ufs.retry.maxAttempts': {
    type: 'int',
    default: 5,
    min: 1,
    unit: 'attempts',
    description: 'Attempts per under-store call, the first included, before a retryable failure is returned.',
  },
  'ufs.retry.baseDelay': {
    type: 'duration',
    default: 100,
    description: 'Delay before the first retry; later retries back off from it up to ufs.retry.maxDelay.',
  },
  'ufs.retry.maxDelay': { type: 'duration', default: 5 * SECOND, description: 'Longest delay between two retries.' },
  'ufs.retry.maxElapsed': {
    type: 'duration',
    default: 60 * SECOND,
    description: 'Time after which a call stops retrying, however many attempts remain.',
  },
  'ufs.timeout': {
    type: 'duration',
    default: 30 * SECOND,
    min: 1,
    description: 'Per-call timeout for under-store metadata calls, and time to the first byte of a read.',
  },
  'ufs.idleTimeout': {
    type: 'duration',
    default: 60 * SECOND,
    min: 1,
    description: 'A read stream that delivers nothing for this long fails.',
  },

  'ufs.s3.multipartThreshold': {
    type: 'size',
    default: 5 * GiB,
    min: 5 * MiB,
    max: 5 * GiB,
    description: 'Writes of known size up to this go to S3 in one PUT, streamed (S3 allows 5 GiB); larger or unsized ones in multipart.',
  },
  'ufs.s3.partSize': {
    type: 'size',
    default: 16 * MiB,
    // S3 rejects parts below 5 MiB (except the last) and above 5 GiB.
    min: 5 * MiB,
    max: 5 * GiB,
    description: 'Size of each part of an S3 multipart upload.',
  },
  'ufs.s3.uploadConcurrency': {
    type: 'int',
    default: 4,
    min: 1,
    unit: 'parts',
    description: 'Parts of one multipart upload sent at the same time.',
  },
  'ufs.s3.maxSockets': {
    type: 'int',
    default: 64,
    min: 1,
    unit: 'sockets',
    description: 'Most open connections to S3 per client.',
  },

  'cache.pageSize': {
    type: 'size',
    default: MiB,
    min: 4096,
    max: 64 * MiB,
    description: 'Size of a cached page: files are cached and fetched in slices of this size.',
  },
  'cache.memory.capacity': { type: 'size', default: 512 * MiB, description: 'Bytes of pages kept in memory; 0 turns the memory tier off.' },
  'cache.disk.dirs': {
    type: 'list',
    default: [],
    description: 'Directories of the disk tier (one per disk); empty means <dataDir>/cache.',
  },
  'cache.disk.capacity': { type: 'size', default: 10 * GiB, description: 'Bytes of pages kept in each disk directory; 0 turns the disk tier off.' },
  'cache.readAheadPages': {
    type: 'int',
    default: 8,
    min: 0,
    max: 256,
    unit: 'pages',
    description: 'Pages fetched ahead of a sequential reader; random readers get none.',
  },
  'cache.readAheadConcurrency': {
    type: 'int',
    default: 8,
    min: 1,
    max: 256,
    unit: 'fetches',
    description: 'Most read-ahead page fetches from stores in flight at once, across all readers.',
  },
  'metadata.syncInterval': {
    type: 'duration',
    default: 30 * SECOND,
    description: 'How long cached file status and listings are trusted before the store is asked again (per mount: syncInterval).',
  },
  'metadata.maxEntries': { type: 'int', default: 200_000, min: 1, unit: 'entries', description: 'Most file statuses and listings cached by a worker.' },

  host: { type: 'string', default: '127.0.0.1', description: 'Address the servers listen on and advertise.' },
  'web.port': { ...PORT, default: 19999, description: 'Port of the web UI and REST API; 0 picks a free port.' },
  'web.historyInterval': {
    type: 'duration',
    default: 10 * SECOND,
    min: 100,
    description: "How often the coordinator samples the cluster for the last hour's charts (GET /api/v1/cluster/history).",
  },
  'worker.port': { ...PORT, default: 29999, description: 'Port of the worker data service; 0 picks a free port.' },
  's3.port': { ...PORT, default: 29998, description: 'Port of the S3-compatible gateway; 0 picks a free port.' },

  's3.credentialsFile': {
    type: 'string',
    default: '',
    description: 'YAML or JSON file of S3 access keys (key: { secret, buckets? }); empty means anonymous requests.',
  },
  's3.allowAnonymousRemote': {
    type: 'bool',
    default: false,
    description: 'Without S3 credentials, also serve anonymous requests from other hosts (by default loopback only).',
  },

  's3.multipartMaxAge': {
    type: 'duration',
    default: 7 * 24 * 3600 * SECOND,
    min: 1,
    description: 'Multipart uploads neither completed nor aborted within this time are removed with their parts.',
  },

  'etcd.endpoints': {
    type: 'list',
    default: [],
    description: 'Client URLs of etcd (comma-separated); empty means static membership and the mount table in the data directory.',
  },
  'etcd.prefix': { type: 'string', default: '/dora', description: 'Key prefix of this cluster in etcd, so several clusters can share one etcd.' },
  'membership.leaseTtl': {
    type: 'duration',
    default: 5 * SECOND,
    min: 1000,
    description: 'How long a worker stays listed after it stops keeping its etcd registration alive (a crash or a cut-off).',
  },
  'membership.workers': {
    type: 'list',
    default: [],
    description: 'Static membership without etcd: worker internal API URLs, each optionally "id=URL".',
  },
  'cluster.virtualNodes': {
    type: 'int',
    default: 2000,
    min: 1,
    max: 65536,
    unit: 'points',
    description: 'Points each worker places on the consistent-hash ring; every process of a cluster must agree.',
  },
  'client.connectTimeout': { type: 'duration', default: 5 * SECOND, min: 1, description: 'How long a client waits to connect to a worker before trying the next replica.' },
  'client.idleTimeout': {
    type: 'duration',
    default: 30 * SECOND,
    min: 1,
    description: 'How long a worker may stay silent mid-call before the client counts it unreachable and fails over.',
  },
  'worker.drainTimeout': {
    type: 'duration',
    default: 60 * SECOND,
    description: 'How long a decommissioned worker waits for running reads to finish before it stops.',
  },

  'fuse.transport': {
    type: 'enum',
    values: ['auto', 'kernel', 'libfuse'],
    default: 'auto',
    description: "How a FUSE mount talks to the kernel: kernel speaks its protocol on /dev/fuse (root; 1 MiB requests), libfuse goes through libfuse 2 (no root needed); auto picks kernel as root.",
  },
  'fuse.attrTimeout': {
    type: 'duration',
    default: SECOND,
    description: 'How long the kernel trusts the attributes and names a FUSE mount answered (read-mostly data: longer is faster).',
  },
  'fuse.kernelCache': {
    type: 'enum',
    values: ['auto', 'keep', 'off'],
    default: 'auto',
    description: "Kernel page cache of a FUSE mount's files across opens: auto keeps it while size and modification time are unchanged, keep always, off never.",
  },
  'fuse.readAhead': { type: 'size', default: 8 * MiB, description: 'Bytes a FUSE mount reads ahead of a sequential reader, per open file; 0 turns read-ahead off.' },
  'fuse.readAheadMemory': { type: 'size', default: 256 * MiB, description: 'Most memory the read-ahead of all open files of a FUSE mount holds.' },
  'fuse.listingAttributes': {
    type: 'int',
    default: 100_000,
    min: 0,
    unit: 'entries',
    description: 'Attributes a FUSE mount keeps from a directory listing for the lookups that follow it (ls -l), at most.',
  },
  'fuse.maxStagedFile': {
    type: 'size',
    default: GiB,
    description: 'Largest existing file a FUSE mount changes in place (appends, random writes): it is copied to local disk meanwhile.',
  },
  'fuse.allowOther': {
    type: 'bool',
    default: false,
    description: 'Let users other than the one who mounted use a FUSE mount; the kernel then enforces the modes it shows (EACCES).',
  },

  'job.maxFailedPercent': {
    type: 'int',
    default: 0,
    min: 0,
    max: 100,
    unit: '%',
    description: 'A job fails when more than this share of its files failed (after their retries); below it, it succeeds and lists them.',
  },
  'job.triesPerFile': { type: 'int', default: 5, min: 1, max: 100, description: 'Tries a job gives one file on retryable failures (a worker that died, throttling), with backoff.' },

  'log.level': {
    type: 'enum',
    values: ['trace', 'debug', 'info', 'warn', 'error', 'silent'],
    default: 'info',
    description: 'Least severe level of the JSON log lines written to stderr (every request is logged at debug).',
  },
  'log.slowRequest': {
    type: 'duration',
    default: 2 * SECOND,
    min: 1,
    description: 'A request slower than this is logged at warn, with its request id and trace id.',
  },

  'trace.exporter': {
    type: 'enum',
    values: ['none', 'otlp'],
    default: 'none',
    description: 'Where OpenTelemetry traces go: none (tracing off), or otlp (OTLP over HTTP to trace.endpoint).',
  },
  'trace.endpoint': {
    type: 'string',
    default: 'http://127.0.0.1:4318/v1/traces',
    description: "The OTLP/HTTP traces endpoint (a collector's /v1/traces), with trace.exporter=otlp.",
  },
  'trace.samplePercent': {
    type: 'int',
    default: 100,
    min: 0,
    max: 100,
    unit: '%',
    description: 'Share of traces started here that are recorded; a request that arrives with a trace context follows its sampled flag.',
  },
  'metrics.port': {
    type: 'int',
    default: -1,
    min: -1,
    max: 65535,
    description: "Port of a /metrics server for processes that serve no HTTP API of their own (a FUSE daemon); -1 none, 0 any free port.",
  },
} as const satisfies ConfigKeyTable;

/** A declared dotted key name, e.g. `'ufs.retry.maxAttempts'`. */
export type ConfigKey = keyof typeof CONFIG_KEYS;

/** Every declared key, in declaration order. */
export const CONFIG_KEY_NAMES = Object.freeze(Object.keys(CONFIG_KEYS)) as readonly ConfigKey[];

export function isConfigKey(name: string): name is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, name);
}

/** The resolved configuration: deeply frozen, e.g. `config.ufs.retry.maxAttempts: number`. */
export type DoraConfig = ConfigTree<typeof CONFIG_KEYS>;

/**
 * `DORA_*` environment variables that are not configuration keys (read by the CLI or tests);
 * any other `DORA_*` variable that names no key is reported as a likely typo.
 */
export const NON_CONFIG_ENV_VARS: readonly string[] = ['DORA_ADDRESS', 'DORA_CONFIG'];
export const NON_CONFIG_ENV_PREFIXES: readonly string[] = ['DORA_TEST_', 'DORA_CREDENTIALS_'];
