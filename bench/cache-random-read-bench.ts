// Issue 3's random-read benchmark: 4 KiB reads at random block-aligned offsets of a cached file
// through the worker API (GET /v1/read?offset=&length=), against nginx answering the same reads
// as Range requests of the same local file. The client is wrk (keep-alive connections, a separate
// process) at 1 and 16 connections; ops/s from wrk, latency percentiles timed per request in
// wrk's Lua (see wrk-random-reads.ts for why not wrk's own).
//
//   node dist/bench/cache-random-read-bench.js [--runs N] [--seconds N] [--size-mib N]
//        [--block N] [--connections 1,16] [--tiers memory] [--nginx-workers N] [--cpu-prof DIR]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMs, formatRatio, summarize, table, timeIt } from './bench-stats.js';
import { machineLine, positiveInt, positiveInts, runBench, writeRandomFile, type Cleanup } from './bench-tools.js';
import { parseTiers, startCachedWorker, type CacheTier } from './cached-worker.js';
import { startNginx } from './nginx-server.js';
import { runWrk, writeWrkScript, wrkVersion, type RandomReadTarget, type WrkResult } from './wrk-random-reads.js';

const MiB = 1024 * 1024;
const FILE = 'big.bin';
const WARM_UP_SECONDS = 2;

interface Args {
  readonly runs: number;
  readonly seconds: number;
  readonly sizeMib: number;
  readonly block: number;
  readonly connections: number[];
  readonly tiers: CacheTier[];
  readonly nginxWorkers: number;
  readonly cpuProf: string | undefined;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '5' },
      'size-mib': { type: 'string', default: '1024' },
      block: { type: 'string', default: '4096' },
      connections: { type: 'string', default: '1,16' },
      tiers: { type: 'string', default: 'memory' },
      'nginx-workers': { type: 'string', default: '1' },
      'cpu-prof': { type: 'string' },
    },
  });
  return {
    runs: positiveInt('runs', values.runs),
    seconds: positiveInt('seconds', values.seconds),
    sizeMib: positiveInt('size-mib', values['size-mib']),
    block: positiveInt('block', values.block),
    connections: positiveInts('connections', values.connections),
    tiers: parseTiers(values.tiers),
    nginxWorkers: positiveInt('nginx-workers', values['nginx-workers']),
    cpuProf: values['cpu-prof'],
  };
}

interface Row {
  readonly tier: CacheTier;
  readonly connections: number;
  readonly dora: WrkResult[];
  readonly nginx: WrkResult[];
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const wrk = await wrkVersion();
  const size = args.sizeMib * MiB;
  const dir = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-random-bench-')), (d) => rm(d, { recursive: true, force: true }));
  const root = join(dir, 'data', 'root');
  await mkdir(root, { recursive: true });
  const written = await timeIt(() => writeRandomFile(join(root, FILE), size));
  console.error(`wrote ${args.sizeMib} MiB of random bytes in ${formatMs(written.ms)}`);
  const nginx = cleanup.add(await startNginx(root, { workers: args.nginxWorkers }), (n) => n.stop());
  const nginxTarget: RandomReadTarget = { baseUrl: nginx.url, mode: 'range', path: `/${FILE}` };
  const nginxScript = await writeWrkScript(dir, 'nginx', nginxTarget, size, args.block);

  const rows: Row[] = [];
  for (const tier of args.tiers) {
    const worker = await startCachedWorker(join(dir, 'data'), FILE, {
      size,
      tier,
      nodeArgs: args.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(args.cpuProf, tier)],
    });
    cleanup.add(worker, (w) => w.stop());
    const doraTarget: RandomReadTarget = { baseUrl: worker.workerUrl, mode: 'dora', path: `/v1/read?path=${encodeURIComponent(`/${FILE}`)}` };
    const doraScript = await writeWrkScript(dir, 'dora', doraTarget, size, args.block);
    const sides: Array<{ side: 'dora' | 'nginx'; target: RandomReadTarget; script: string }> = [
      { side: 'dora', target: doraTarget, script: doraScript },
      { side: 'nginx', target: nginxTarget, script: nginxScript },
    ];
    // Warm-up, untimed: the JIT on dora's side, the OS page cache on nginx's.
    for (const s of sides) await runWrk(s.target, s.script, { connections: 16, seconds: WARM_UP_SECONDS });
    const missesBefore = await worker.misses();
    const tierRows = args.connections.map((connections) => ({ tier, connections, dora: [] as WrkResult[], nginx: [] as WrkResult[] }));
    for (let run = 0; run < args.runs; run++) {
      const line: string[] = [];
      for (const row of tierRows) {
        const order = run % 2 === 0 ? sides : [...sides].reverse();
        for (const s of order) {
          const result = await runWrk(s.target, s.script, { connections: row.connections, seconds: args.seconds });
          if (result.bad > 0 || result.requests === 0) throw new Error(`Cannot trust ${s.side} at ${row.connections} connections: ${result.bad} of ${result.requests} reads failed or had the wrong length`);
          row[s.side].push(result);
          line.push(`${s.side}×${row.connections} ${Math.round(result.opsPerSecond)}/s p50 ${formatMs(result.p50Us / 1000)}`);
        }
      }
      console.error(`${tier}-hot run ${run + 1}/${args.runs}: ${line.join(', ')}`);
    }
    const missesAfter = await worker.misses();
    if (missesAfter !== missesBefore) throw new Error(`Cannot trust the ${tier}-hot figures: ${missesAfter - missesBefore} page misses during the timed reads`);
    rows.push(...tierRows);
    await worker.stop();
    await rm(join(dir, 'data', 'cache'), { recursive: true, force: true });
  }
  report(args, `${wrk.split(' [')[0]}; ${nginx.version}`, rows);
}

function report(args: Args, versions: string, rows: readonly Row[]): void {
  const med = (results: readonly WrkResult[], pick: (r: WrkResult) => number): number => summarize(results.map(pick)).median;
  const ms = (us: number): string => formatMs(us / 1000);
  const ops = (n: number): string => Math.round(n).toLocaleString('en-US');
  const header = ['cache', 'connections', 'dora ops/s (min–max)', 'nginx ops/s', 'ratio ops/s (dora / nginx)', 'dora p50', 'nginx p50', 'dora p99', 'nginx p99', 'dora p99.9', 'nginx p99.9', 'dora mean', 'nginx mean', 'dora p50 < 1 ms'];
  const body = rows.map((row) => {
    const doraOps = summarize(row.dora.map((r) => r.opsPerSecond));
    const nginxOps = med(row.nginx, (r) => r.opsPerSecond);
    const doraP50 = med(row.dora, (r) => r.p50Us);
    return [
      `${row.tier}-hot`,
      String(row.connections),
      `${ops(doraOps.median)} (${ops(doraOps.min)}–${ops(doraOps.max)})`,
      ops(nginxOps),
      formatRatio(doraOps.median, nginxOps),
      ms(doraP50),
      ms(med(row.nginx, (r) => r.p50Us)),
      ms(med(row.dora, (r) => r.p99Us)),
      ms(med(row.nginx, (r) => r.p99Us)),
      ms(med(row.dora, (r) => r.p999Us)),
      ms(med(row.nginx, (r) => r.p999Us)),
      ms(med(row.dora, (r) => r.meanUs)),
      ms(med(row.nginx, (r) => r.meanUs)),
      doraP50 < 1000 ? 'yes' : 'NO',
    ];
  });
  console.log(`\n${machineLine()}; ${versions} (${args.nginxWorkers} worker); ${args.runs} runs of ${args.seconds} s each; medians of the runs`);
  console.log(`${args.block}-byte reads at random ${args.block}-aligned offsets of a ${args.sizeMib} MiB file; wrk with one keep-alive connection per thread; latency = each request's own, timed in wrk's Lua; nginx answers Range requests\n`);
  console.log(table([header, ...body]));
  const json = rows.map((row) => ({ cache: `${row.tier}-hot`, connections: row.connections, dora: row.dora, nginx: row.nginx }));
  console.log(JSON.stringify({ bench: 'cache-random-read', runs: args.runs, seconds: args.seconds, block: args.block, sizeBytes: args.sizeMib * MiB, results: json }, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
}

runBench(main);
