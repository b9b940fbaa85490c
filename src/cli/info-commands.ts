import type { CacheSummary, WorkerCacheSummary } from '../client/client-types.js';
import type { CommandModule } from './cli-context.js';
import { humanSize, table } from './output.js';

/** `dora info cache|nodes`: what the cluster knows about itself. */
export const infoCommands: CommandModule = {
  register(program, context) {
    const info = program.command('info').description('show the state of the cluster');

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
