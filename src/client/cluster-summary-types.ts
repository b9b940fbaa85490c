import type { WorkerRecord } from '../membership/worker-record.js';

/** The coordinator's view of the whole cluster (`GET /api/v1/cluster`, `…/history`), as clients receive it. */

/** One worker as the cluster summary shows it: its record, and its cache figures unless it did not answer. */
export interface WorkerSummary {
  readonly id: string;
  readonly state: WorkerRecord['state'];
  readonly address: string;
  readonly s3Address?: string | undefined;
  readonly startedAt: number;
  readonly capacityBytes: number;
  readonly usedBytes?: number;
  readonly pages?: number;
  readonly hits?: number;
  readonly misses?: number;
  /** Hits over all page requests since the worker started; null before any. */
  readonly hitRatio?: number | null;
  readonly bytesFromCache?: number;
  readonly bytesFromStore?: number;
  /** Bytes of files written through the worker to stores since it started. */
  readonly bytesWritten?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface ClusterTotals {
  readonly workers: number;
  readonly live: number;
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly pages: number;
  readonly hits: number;
  readonly misses: number;
  readonly hitRatio: number | null;
  readonly bytesFromCache: number;
  readonly bytesFromStore: number;
  readonly bytesWritten: number;
}

/** `GET /api/v1/cluster`: every worker, asked now, and the sums. */
export interface ClusterSummary {
  readonly time: number;
  readonly leader: string | null;
  readonly mounts: number;
  readonly totals: ClusterTotals;
  readonly workers: readonly WorkerSummary[];
  /** Jobs by state, on the coordinator that runs them (null on another). */
  readonly jobs: Readonly<Record<'running' | 'succeeded' | 'failed' | 'stopped', number>> | null;
}

/** The cluster over one interval, ending at `time`. */
export interface HistoryPoint {
  readonly time: number;
  /** Hits over page requests within the interval; null when there were none. */
  readonly hitRatio: number | null;
  /** Bytes sent to readers per second, from cache and from stores. */
  readonly bytesPerSecond: number;
  readonly cacheBytesPerSecond: number;
  readonly storeBytesPerSecond: number;
  /** Bytes of files written to stores per second. */
  readonly writeBytesPerSecond: number;
  /** Bytes cached at the end of the interval. */
  readonly usedBytes: number;
}

/** `GET /api/v1/cluster/history`. */
export interface ClusterHistoryView {
  readonly intervalMs: number;
  readonly points: readonly HistoryPoint[];
}

