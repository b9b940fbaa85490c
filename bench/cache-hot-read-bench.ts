// Issue 3's hot-read benchmark: a sequential read of a whole cached file through the worker API
// (GET /v1/read), against nginx serving the same bytes from the same local file, side by side.
// Readers are curl processes (body to /dev/null), 1 and 4 at once; the worker runs in a process
// of its own, with the file cached in its memory tier ("memory-hot") or disk tier ("disk-hot").
//
//   node dist/bench/cache-hot-read-bench.js [--runs N] [--size-mib N] [--readers 1,4]
//        [--tiers memory,disk] [--nginx-workers N] [--cpu-prof DIR]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMs, formatRate, formatRatio, summarize, table, timeIt, type Summary } from './bench-stats.js';
import { curlAtOnce, machineLine, positiveInt, positiveInts, runBench, writeRandomFile, type Cleanup } from './bench-tools.js';
import { parseTiers, startCachedWorker, type CacheTier } from './cached-worker.js';
import { startNginx } from './nginx-server.js';

const MiB = 1024 * 1024;
const FILE = 'big.bin';

interface Args {
  readonly runs: number;
  readonly sizeMib: number;
  readonly readers: number[];
  readonly tiers: CacheTier[];
  readonly nginxWorkers: number;
  readonly cpuProf: string | undefined;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      'size-mib': { type: 'string', default: '1024' },
      readers: { type: 'string', default: '1,4' },
      tiers: { type: 'string', default: 'memory,disk' },
      'nginx-workers': { type: 'string', default: '1' },
      'cpu-prof': { type: 'string' },
    },
  });
  return {
    runs: positiveInt('runs', values.runs),
    sizeMib: positiveInt('size-mib', values['size-mib']),
    readers: positiveInts('readers', values.readers),
    tiers: parseTiers(values.tiers),
    nginxWorkers: positiveInt('nginx-workers', values['nginx-workers']),
    cpuProf: values['cpu-prof'],
  };
}

interface Row {
  readonly tier: CacheTier;
  readonly readers: number;
  readonly dora: number[];
  readonly nginx: number[];
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const size = args.sizeMib * MiB;
  const dir = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-hot-bench-')), (d) => rm(d, { recursive: true, force: true }));
  const root = join(dir, 'data', 'root'); // the worker's root mount ('/' = file://<dataDir>/root)
  await mkdir(root, { recursive: true });
  const written = await timeIt(() => writeRandomFile(join(root, FILE), size));
  console.error(`wrote ${args.sizeMib} MiB of random bytes in ${formatMs(written.ms)}`);
  const nginx = await startNginx(root, { workers: args.nginxWorkers });
  cleanup.add(nginx, (n) => n.stop());
  const nginxUrl = `${nginx.url}/${FILE}`;
  await curlAtOnce(nginxUrl, 1, size); // the file in the OS page cache for both sides

  const rows: Row[] = [];
  for (const tier of args.tiers) {
    const worker = await startCachedWorker(join(dir, 'data'), FILE, {
      size,
      tier,
      nodeArgs: args.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(args.cpuProf, tier)],
    });
    cleanup.add(worker, (w) => w.stop()); // stop() is idempotent
    const doraUrl = worker.readUrl;
    const missesBefore = await worker.misses();
    const tierRows = args.readers.map((readers) => ({ tier, readers, dora: [] as number[], nginx: [] as number[] }));
    for (let run = 0; run < args.runs; run++) {
      const line: string[] = [];
      for (const row of tierRows) {
        const sides: Array<['dora' | 'nginx', string]> = [['dora', doraUrl], ['nginx', nginxUrl]];
        if (run % 2 === 1) sides.reverse(); // neither side always goes first
        for (const [side, url] of sides) {
          const ms = await curlAtOnce(url, row.readers, size);
          row[side].push(ms);
          line.push(`${side}×${row.readers} ${formatMs(ms)}`);
        }
      }
      console.error(`${tier}-hot run ${run + 1}/${args.runs}: ${line.join(', ')}`);
    }
    const missesAfter = await worker.misses();
    if (missesAfter !== missesBefore) throw new Error(`Cannot trust the ${tier}-hot figures: ${missesAfter - missesBefore} page misses during the timed reads`);
    rows.push(...tierRows);
    await worker.stop();
    if (tier === 'disk') await rm(join(dir, 'data', 'cache'), { recursive: true, force: true });
  }
  report(args, nginx.version, rows);
}

function report(args: Args, nginxVersion: string, rows: readonly Row[]): void {
  const range = (s: Summary): string => `${formatMs(s.min)} – ${formatMs(s.max)}`;
  const header = ['cache', 'readers', 'dora median', 'dora min – max', 'nginx median', 'nginx min – max', 'dora rate', 'nginx rate', 'ratio (dora rate / nginx rate)'];
  const body = rows.map((row) => {
    const dora = summarize(row.dora);
    const nginx = summarize(row.nginx);
    const mib = row.readers * args.sizeMib;
    return [`${row.tier}-hot`, String(row.readers), formatMs(dora.median), range(dora), formatMs(nginx.median), range(nginx), formatRate(mib, dora.median, 'MiB'), formatRate(mib, nginx.median, 'MiB'), formatRatio(nginx.median, dora.median)];
  });
  console.log(`\n${machineLine()}; ${nginxVersion} (${args.nginxWorkers} worker, sendfile on); ${args.runs} runs`);
  console.log(`each reader: curl GET of the whole ${args.sizeMib} MiB file to /dev/null; time = wall clock until every reader is done; ratio ≥ 0.80x is the target\n`);
  console.log(table([header, ...body]));
  const json = rows.map((row) => ({ cache: `${row.tier}-hot`, readers: row.readers, doraMs: row.dora, nginxMs: row.nginx, ratio: summarize(row.nginx).median / summarize(row.dora).median }));
  console.log(JSON.stringify({ bench: 'cache-hot-read', runs: args.runs, sizeBytes: args.sizeMib * MiB, results: json }, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
}

runBench(main);
