import type { CacheSummary, WorkerCacheSummary } from '../client/client-types.js';
import type { ClusterSummary } from '../client/cluster-summary-types.js';
import type { CommandModule } from './cli-context.js';
import { humanSize, table } from './output.js';

/** `dora info cluster|cache|nodes`: what the cluster knows about itself. */
export const infoCommands: CommandModule = {
  register(program, context) {
    const info = program.command('info').description('show the state of the cluster');

    info
      .command('cluster')
      .description('the whole cluster: workers with state, capacity, usage and hit ratio, and the totals')
      .option('--json', "the coordinator's GET /api/v1/cluster as JSON")
      .action(async (options: { json?: boolean }) => {
        const summary = await (await context.client()).cluster.summary({ signal: context.signal });
        if (options.json === true) return context.json(summary);
        await context.write(describeCluster(summary));
      });

    info
      .command('cache')
      .description("show every worker's page cache: usage per tier, hits and misses")
      .option('--json', "the coordinator's {workers: [CacheSummary…]} as JSON")
      .action(async (options: { json?: boolean }) => {
        const summary = await (await context.client()).cacheSummary({ signal: context.signal });
        if (options.json === true) return context.json(summary);
        if (summary.workers.length === 0) return context.write('No workers.\n');
        await context.write(summary.workers.map(describeWorkerCache).join('\n'));
      });

    info
      .command('nodes')
      .description('list the workers: state, address, cache capacity and usage')
      .option('--json', 'a JSON array of {id, state, address, s3Address, capacityBytes, usedBytes}')
      .action(async (options: { json?: boolean }) => {
        const client = await context.client();
        const [workers, caches] = await Promise.all([client.workers({ signal: context.signal }), client.cacheSummary({ signal: context.signal })]);
        const used = new Map(caches.workers.map((w) => [w.id, 'error' in w ? undefined : (w as Partial<CacheSummary> & { bytes?: number }).bytes]));
        const nodes = workers.map((w) => ({ ...w, usedBytes: used.get(w.id) ?? null }));
        if (options.json === true) return context.json(nodes);
        if (nodes.length === 0) return context.write('No workers.\n');
        const rows = [
          ['ID', 'STATE', 'ADDRESS', 'S3', 'CAPACITY', 'USED'],
          ...nodes.map((n) => [n.id, n.state, n.address, n.s3Address ?? '-', n.capacityBytes === undefined ? '-' : humanSize(n.capacityBytes), n.usedBytes === null ? '?' : humanSize(n.usedBytes)]),
        ];
        await context.write(table(rows));
      });
  },
};

function describeCluster(summary: ClusterSummary): string {
  const t = summary.totals;
  const percent = (ratio: number | null | undefined): string => (ratio === null || ratio === undefined ? '-' : `${(100 * ratio).toFixed(1)}%`);
  const jobs = summary.jobs === null ? '' : `; jobs: ${summary.jobs.running} running, ${summary.jobs.succeeded} succeeded, ${summary.jobs.failed} failed, ${summary.jobs.stopped} stopped`;
  const lines = [
    `${t.live} of ${t.workers} workers live, ${summary.mounts} mounts${jobs}`,
    `Cache: ${humanSize(t.usedBytes)} of ${humanSize(t.capacityBytes)} used (${t.pages} pages); hit ratio ${percent(t.hitRatio)} (${t.hits} hits, ${t.misses} misses)`,
    `Served: ${humanSize(t.bytesFromCache)} from cache, ${humanSize(t.bytesFromStore)} from stores; written: ${humanSize(t.bytesWritten)} to stores`,
    '',
  ];
  const rows = [
    ['ID', 'STATE', 'ADDRESS', 'CAPACITY', 'USED', 'HIT RATIO', 'FROM CACHE', 'FROM STORE'],
    ...summary.workers.map((w) =>
      w.error !== undefined
        ? [w.id, w.state, w.address, humanSize(w.capacityBytes), '?', '?', '?', `(${w.error.code}: not answering)`]
        : [w.id, w.state, w.address, humanSize(w.capacityBytes), humanSize(w.usedBytes ?? 0), percent(w.hitRatio), humanSize(w.bytesFromCache ?? 0), humanSize(w.bytesFromStore ?? 0)],
    ),
  ];
  return `${lines.join('\n')}${summary.workers.length === 0 ? 'No workers.\n' : table(rows)}`;
}

function describeWorkerCache(worker: WorkerCacheSummary): string {
  if ('error' in worker) return `Worker ${worker.id}: ${worker.error.message}\n`;
  const cache: Partial<CacheSummary> = worker;
  const tiers = cache.tiers ?? [];
  // Workers that report no totals are summed from their tiers.
  const hits = cache.hits ?? tiers.reduce((sum, tier) => sum + (tier.hits ?? 0), 0);
  const misses = cache.misses ?? tiers.reduce((sum, tier) => sum + (tier.misses ?? 0), 0);
  const ratio = hits + misses === 0 ? '-' : `${((100 * hits) / (hits + misses)).toFixed(1)}%`;
  const lines = [`Worker ${worker.id}: pages of ${cache.pageSize === undefined ? '?' : humanSize(cache.pageSize)}; hits ${hits}, misses ${misses} (hit ratio ${ratio})`];
  if (cache.bytesFromCache !== undefined && cache.bytesFromStore !== undefined) {
    lines.push(`  ${humanSize(cache.bytesFromCache)} served from cache, ${humanSize(cache.bytesFromStore)} from stores`);
  }
  const rows = [
    ['  TIER', 'PAGES', 'USED', 'CAPACITY', 'HITS', 'MISSES', 'EVICTIONS'],
    ...tiers.map((tier) => [`  ${tier.name}`, String(tier.pages), humanSize(tier.bytes), humanSize(tier.capacityBytes), String(tier.hits ?? '-'), String(tier.misses ?? '-'), String(tier.evictions)]),
  ];
  return `${lines.join('\n')}\n${table(rows)}`;
}
