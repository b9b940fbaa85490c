// A dora worker process with one file of its root mount wholly cached in one tier, for the
// benchmarks of hot reads; and the page-miss counter that proves the timed reads stayed hot.
import { formatMs, timeIt } from './bench-stats.js';
import { curlGet, httpText, metric } from './bench-tools.js';
import { startDoraWorkerProcess, type DoraWorkerProcess } from './dora-worker-process.js';

export type CacheTier = 'memory' | 'disk';

export const CACHE_TIERS: readonly CacheTier[] = ['memory', 'disk'];

const MiB = 1024 * 1024;

export interface CachedWorker extends DoraWorkerProcess {
  /** `<workerUrl>/v1/read?path=%2F<name>`. */
  readonly readUrl: string;
  /** Page misses counted by the worker so far (`dora_cache_page_requests_total{result="miss"}`). */
  misses(): Promise<number>;
}

/**
 * Starts a worker on `dataDir` (whose `root/` is the root mount) with room for the file in one
 * tier and no other tier, reads `/<name>` through it once (cold, from file://), and waits until
 * every page is cached. `nodeArgs` go to the worker's node (e.g. --cpu-prof).
 */
export async function startCachedWorker(dataDir: string, name: string, options: { size: number; tier: CacheTier; nodeArgs?: readonly string[] }): Promise<CachedWorker> {
  const room = `${Math.ceil((options.size * 1.15) / MiB)}MiB`;
  const flags = options.tier === 'memory' ? { 'cache.memory.capacity': room, 'cache.disk.capacity': '0' } : { 'cache.memory.capacity': '0', 'cache.disk.capacity': room };
  const worker = await startDoraWorkerProcess({ dataDir, flags, nodeArgs: options.nodeArgs ?? [] });
  try {
    const readUrl = `${worker.workerUrl}/v1/read?path=${encodeURIComponent(`/${name}`)}`;
    const fill = await timeIt(() => curlGet(readUrl));
    if (fill.value.status !== 200 || fill.value.bytes !== options.size) throw new Error(`Cannot cache /${name}: status ${fill.value.status}, ${fill.value.bytes} of ${options.size} bytes`);
    const summary = JSON.parse(await httpText(`${worker.workerUrl}/v1/cache`)) as { pageSize: number };
    await waitCached(worker, Math.ceil(options.size / summary.pageSize));
    console.error(`${options.tier}-hot: cached ${(options.size / MiB).toFixed(0)} MiB in ${formatMs(fill.ms)} (a cold read from file://)`);
    return { ...worker, readUrl, misses: async () => metric(await httpText(`${worker.workerUrl}/metrics`), 'dora_cache_page_requests_total', { result: 'miss' }) };
  } catch (error) {
    await worker.stop();
    throw error;
  }
}

/** Polls the cache summary until it holds `pages` pages (disk writes finish after the read). */
async function waitCached(worker: DoraWorkerProcess, pages: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const summary = JSON.parse(await httpText(`${worker.workerUrl}/v1/cache`)) as { pages: number };
    if (summary.pages >= pages) return;
    if (Date.now() > deadline) throw new Error(`Cannot cache the file: ${summary.pages} of ${pages} pages cached after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Parses `--tiers memory,disk`. */
export function parseTiers(text: string): CacheTier[] {
  const tiers = text.split(',').map((t) => t.trim());
  for (const t of tiers) if (!CACHE_TIERS.includes(t as CacheTier)) throw new Error(`Cannot run the benchmark with --tiers ${JSON.stringify(text)}: each must be memory or disk`);
  return tiers as CacheTier[];
}
