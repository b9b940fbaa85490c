import type { JobManager } from '../job/job-manager.js';
import type { ClusterSummary, WorkerSummary } from '../client/cluster-summary-types.js';
import type { WorkerRecord } from '../membership/worker-record.js';
import { withOnwardHeaders } from '../observe/onward-headers.js';

/** What a worker answers at `GET /v1/cache` (the fields the summary uses). */
interface WorkerCache {
  readonly bytes: number;
  readonly pages: number;
  readonly capacityBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly bytesFromCache: number;
  readonly bytesFromStore: number;
  readonly bytesWritten?: number;
}

/** How long the summary waits for one worker. */
const WORKER_TIMEOUT_MS = 5000;

/** A worker's `GET /v1/cache`, or the error that kept it from answering. */
export async function askWorkerCache(worker: WorkerRecord, signal?: AbortSignal): Promise<Record<string, unknown>> {
  try {
    const timeout = AbortSignal.timeout(WORKER_TIMEOUT_MS);
    const res = await fetch(`${worker.address}/v1/cache`, { headers: withOnwardHeaders({}), signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) });
    if (!res.ok) throw new Error(`it answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  } catch (error) {
    return { error: { code: 'UNAVAILABLE', message: `Cannot ask worker ${worker.id} at ${worker.address}: ${String(error)}`, retryable: true } };
  }
}

/** Asks every worker for its cache figures and sums them. */
export async function summarizeCluster(
  deps: { workers: () => readonly WorkerRecord[]; mounts: () => number; leader: () => string | null; jobs?: (() => JobManager | undefined) | undefined },
  signal?: AbortSignal,
): Promise<ClusterSummary> {
  const records = deps.workers();
  const workers = await Promise.all(records.map(async (w) => summarizeWorker(w, await askWorkerCache(w, signal))));
  const answered = workers.filter((w) => w.error === undefined);
  const sum = (pick: (w: WorkerSummary) => number | undefined) => answered.reduce((n, w) => n + (pick(w) ?? 0), 0);
  const hits = sum((w) => w.hits);
  const misses = sum((w) => w.misses);
  const manager = deps.jobs?.();
  return {
    time: Date.now(),
    leader: deps.leader(),
    mounts: deps.mounts(),
    totals: {
      workers: records.length,
      live: records.filter((w) => w.state === 'live').length,
      capacityBytes: workers.reduce((n, w) => n + w.capacityBytes, 0),
      usedBytes: sum((w) => w.usedBytes),
      pages: sum((w) => w.pages),
      hits,
      misses,
      hitRatio: ratio(hits, misses),
      bytesFromCache: sum((w) => w.bytesFromCache),
      bytesFromStore: sum((w) => w.bytesFromStore),
      bytesWritten: sum((w) => w.bytesWritten),
    },
    workers,
    jobs: manager === undefined ? null : countJobs(manager),
  };
}

function summarizeWorker(record: WorkerRecord, answer: Record<string, unknown>): WorkerSummary {
  const base = {
    id: record.id,
    state: record.state,
    address: record.address,
    ...(record.s3Address === undefined ? {} : { s3Address: record.s3Address }),
    startedAt: record.startedAt,
    capacityBytes: record.capacityBytes ?? 0,
  };
  if ('error' in answer) return { ...base, error: answer['error'] as { code: string; message: string } };
  const cache = answer as unknown as WorkerCache;
  return {
    ...base,
    capacityBytes: cache.capacityBytes,
    usedBytes: cache.bytes,
    pages: cache.pages,
    hits: cache.hits,
    misses: cache.misses,
    hitRatio: ratio(cache.hits, cache.misses),
    bytesFromCache: cache.bytesFromCache,
    bytesFromStore: cache.bytesFromStore,
    bytesWritten: cache.bytesWritten ?? 0,
  };
}

function countJobs(jobs: JobManager): NonNullable<ClusterSummary['jobs']> {
  const counts = { running: 0, succeeded: 0, failed: 0, stopped: 0 };
  for (const job of jobs.list()) counts[job.state === 'verifying' ? 'running' : job.state] += 1;
  return counts;
}

export function ratio(hits: number, misses: number): number | null {
  return hits + misses === 0 ? null : hits / (hits + misses);
}
