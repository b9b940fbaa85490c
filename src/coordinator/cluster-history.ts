import { log } from '../observe/log.js';
import type { ClusterHistoryView, ClusterSummary, HistoryPoint } from '../client/cluster-summary-types.js';
import { ratio } from './cluster-summary.js';

interface Counts {
  readonly startedAt: number;
  readonly hits: number;
  readonly misses: number;
  readonly bytesFromCache: number;
  readonly bytesFromStore: number;
  readonly bytesWritten: number;
}

const HOUR_MS = 3600_000;

/**
 * The last hour of the cluster, sampled every `intervalMs` from the cluster summary: hit ratio and
 * throughput per interval, worked out from the differences of every worker's counters (a worker
 * that restarted counts from zero again; one that did not answer adds nothing).
 */
export class ClusterHistory {
  readonly intervalMs: number;
  readonly #sample: () => Promise<ClusterSummary>;
  readonly #points: HistoryPoint[] = [];
  readonly #keep: number;
  #previous: { time: number; workers: Map<string, Counts> } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;

  constructor(options: { intervalMs: number; sample: () => Promise<ClusterSummary> }) {
    this.intervalMs = options.intervalMs;
    this.#sample = options.sample;
    this.#keep = Math.max(1, Math.ceil(HOUR_MS / options.intervalMs));
  }

  start(): void {
    const tick = (): void => {
      this.#sampling = this.sampleNow()
        .catch((error: unknown) => log.warn({ err: String(error) }, 'cannot sample the cluster for its history'))
        .finally(() => {
          if (this.#timer !== undefined) this.#timer = setTimeout(tick, this.intervalMs).unref();
        });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sampling;
  }

  view(): ClusterHistoryView {
    return { intervalMs: this.intervalMs, points: [...this.#points] };
  }

  /** Takes one sample; from the second on, adds a point. */
  async sampleNow(): Promise<void> {
    const summary = await this.#sample();
    const workers = new Map<string, Counts>();
    for (const w of summary.workers) {
      if (w.error !== undefined) continue;
      workers.set(w.id, { startedAt: w.startedAt, hits: w.hits ?? 0, misses: w.misses ?? 0, bytesFromCache: w.bytesFromCache ?? 0, bytesFromStore: w.bytesFromStore ?? 0, bytesWritten: w.bytesWritten ?? 0 });
    }
    const previous = this.#previous;
    this.#previous = { time: summary.time, workers };
    if (previous === undefined) return;
    const delta = { hits: 0, misses: 0, bytesFromCache: 0, bytesFromStore: 0, bytesWritten: 0 };
    for (const [id, now] of workers) {
      const before = previous.workers.get(id);
      const base = before !== undefined && before.startedAt === now.startedAt ? before : undefined;
      if (before !== undefined && base === undefined) log.debug({ worker: id }, 'worker restarted: its counters start again');
      if (before === undefined) continue; // first seen: its counters since start are not this interval's
      for (const key of ['hits', 'misses', 'bytesFromCache', 'bytesFromStore', 'bytesWritten'] as const) delta[key] += Math.max(0, now[key] - (base?.[key] ?? 0));
    }
    const seconds = Math.max(0.001, (summary.time - previous.time) / 1000);
    this.#points.push({
      time: summary.time,
      hitRatio: ratio(delta.hits, delta.misses),
      bytesPerSecond: (delta.bytesFromCache + delta.bytesFromStore) / seconds,
      cacheBytesPerSecond: delta.bytesFromCache / seconds,
      storeBytesPerSecond: delta.bytesFromStore / seconds,
      writeBytesPerSecond: delta.bytesWritten / seconds,
      usedBytes: summary.totals.usedBytes,
    });
    if (this.#points.length > this.#keep) this.#points.splice(0, this.#points.length - this.#keep);
  }
}
