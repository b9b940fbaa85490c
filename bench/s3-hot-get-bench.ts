// Issue 4's hot GET benchmark: GetObject of a large object already in the worker's cache, through
// dora's S3 API, against nginx serving the same bytes from the same local file, side by side.
// Clients are curl processes (body to /dev/null, byte count and status checked), 1 and 8 at once;
// dora runs as `dora start` in a process of its own. The timed reads must all be cache hits
// (the worker's cache totals before and after), and each side's bytes are checked once against
// the file's sha256, untimed.
//
//   node dist/bench/s3-hot-get-bench.js [--runs N] [--size-mib N] [--clients 1,8]
//        [--tiers memory[,disk]] [--nginx-workers N] [--cpu-prof DIR]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMs, formatRate, formatRatio, summarize, table, timeIt, type Summary } from './bench-stats.js';
import { curlAtOnce, machineLine, positiveInt, positiveInts, runBench, writeRandomFile, type Cleanup } from './bench-tools.js';
import { parseTiers, startCachedWorker, type CacheTier } from './cached-worker.js';
import { startNginx } from './nginx-server.js';
import { cacheTotals, checkAllHits, fileDigests, hashedGet } from './s3-bench-tools.js';

const MiB = 1024 * 1024;
const BUCKET = 'bench';
const KEY = 'big.bin';
const TARGET = 0.8;

interface Args {
  readonly runs: number;
  readonly sizeMib: number;
  readonly clients: number[];
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
      clients: { type: 'string', default: '1,8' },
      tiers: { type: 'string', default: 'memory' },
      'nginx-workers': { type: 'string', default: '1' },
      'cpu-prof': { type: 'string' },
    },
  });
  return {
    runs: positiveInt('runs', values.runs),
    sizeMib: positiveInt('size-mib', values['size-mib']),
    clients: positiveInts('clients', values.clients),
    tiers: parseTiers(values.tiers),
    nginxWorkers: positiveInt('nginx-workers', values['nginx-workers']),
    cpuProf: values['cpu-prof'],
  };
}

/** One untimed GET whose bytes must hash to the file's sha256. */
async function checkContent(url: string, size: number, sha256: string): Promise<void> {
  const got = await hashedGet(url);
  if (got.status !== 200 || got.bytes !== size || got.sha256 !== sha256) {
    throw new Error(`Cannot trust GET ${url}: status ${got.status}, ${got.bytes} of ${size} bytes, sha256 ${got.sha256} (the file's is ${sha256})`);
  }
}

interface Row {
  readonly tier: CacheTier;
  readonly clients: number;
  readonly dora: number[];
  readonly nginx: number[];
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const size = args.sizeMib * MiB;
  const dir = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-s3-hot-bench-')), (d) => rm(d, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const root = join(dataDir, 'root'); // the worker's root mount: bucket "bench" is <root>/bench
  await mkdir(join(root, BUCKET), { recursive: true });
  const file = join(root, BUCKET, KEY);
  const written = await timeIt(() => writeRandomFile(file, size));
  const { sha256 } = await fileDigests(file);
  console.error(`wrote ${args.sizeMib} MiB of random bytes in ${formatMs(written.ms)} (sha256 ${sha256.slice(0, 16)}…)`);
  const nginx = cleanup.add(await startNginx(root, { workers: args.nginxWorkers }), (n) => n.stop());
  const nginxUrl = `${nginx.url}/${BUCKET}/${KEY}`;
  await checkContent(nginxUrl, size, sha256); // also puts the file in the OS page cache for both sides

  const rows: Row[] = [];
  for (const tier of args.tiers) {
    // Cached by one read through the worker API, then checked through S3, both untimed.
    const worker = await startCachedWorker(dataDir, `${BUCKET}/${KEY}`, {
      size,
      tier,
      nodeArgs: args.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(args.cpuProf, tier)],
    });
    cleanup.add(worker, (w) => w.stop()); // stop() is idempotent
    const doraUrl = `${worker.s3Url}/${BUCKET}/${KEY}`;
    const beforeCheck = await cacheTotals(worker.workerUrl);
    await checkContent(doraUrl, size, sha256);
    const before = await cacheTotals(worker.workerUrl);
    checkAllHits(`the ${tier}-hot check read`, beforeCheck, before, size);
    const tierRows = args.clients.map((clients) => ({ tier, clients, dora: [] as number[], nginx: [] as number[] }));
    for (let run = 0; run < args.runs; run++) {
      const line: string[] = [];
      for (const row of tierRows) {
        const sides: Array<['dora' | 'nginx', string]> = [['dora', doraUrl], ['nginx', nginxUrl]];
        if (run % 2 === 1) sides.reverse(); // neither side always goes first
        for (const [side, url] of sides) {
          const ms = await curlAtOnce(url, row.clients, size);
          row[side].push(ms);
          line.push(`${side}×${row.clients} ${formatMs(ms)}`);
        }
      }
      console.error(`${tier}-hot run ${run + 1}/${args.runs}: ${line.join(', ')}`);
    }
    const after = await cacheTotals(worker.workerUrl);
    const timedBytes = args.runs * args.clients.reduce((sum, c) => sum + c, 0) * size;
    checkAllHits(`the ${tier}-hot figures`, before, after, timedBytes);
    console.error(`${tier}-hot: every timed GET was served from the cache (${after.hits - before.hits} page hits, 0 misses, ${timedBytes} bytes)`);
    rows.push(...tierRows);
    await worker.stop();
    await rm(join(dataDir, 'cache'), { recursive: true, force: true });
  }
  report(args, nginx.version, rows);
}

function report(args: Args, nginxVersion: string, rows: readonly Row[]): void {
  const range = (s: Summary): string => `${formatMs(s.min)} – ${formatMs(s.max)}`;
  const header = ['cache', 'clients', 'dora median', 'dora min – max', 'nginx median', 'nginx min – max', 'dora rate', 'nginx rate', 'ratio (dora rate / nginx rate)', `≥ ${TARGET.toFixed(2)}x`];
  const body = rows.map((row) => {
    const dora = summarize(row.dora);
    const nginx = summarize(row.nginx);
    const mib = row.clients * args.sizeMib;
    const met = nginx.median / dora.median >= TARGET;
    return [`${row.tier}-hot`, String(row.clients), formatMs(dora.median), range(dora), formatMs(nginx.median), range(nginx), formatRate(mib, dora.median, 'MiB'), formatRate(mib, nginx.median, 'MiB'), formatRatio(nginx.median, dora.median), met ? 'yes' : 'NO'];
  });
  console.log(`\n${machineLine()}; ${nginxVersion} (${args.nginxWorkers} worker, sendfile on); ${args.runs} runs`);
  console.log(`each client: curl GET of the whole ${args.sizeMib} MiB object to /dev/null, dora: \`GET /${BUCKET}/${KEY}\` on its S3 API (anonymous, loopback), nginx: the same file; time = wall clock until every client is done\n`);
  console.log(table([header, ...body]));
  const json = rows.map((row) => ({ cache: `${row.tier}-hot`, clients: row.clients, doraMs: row.dora, nginxMs: row.nginx, ratio: summarize(row.nginx).median / summarize(row.dora).median }));
  console.log(JSON.stringify({ bench: 's3-hot-get', runs: args.runs, sizeBytes: args.sizeMib * MiB, results: json }, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
}

runBench(main);
