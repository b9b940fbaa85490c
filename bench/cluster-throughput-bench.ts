// Issue 5's throughput benchmark: aggregate hot read throughput of a cluster of 1, 2 and 3 workers
// on this machine, side by side with the same readers reading the same files from local disk.
// For each worker count, a LocalCluster (etcd, a coordinator and `dora worker` processes with a
// 1 GiB memory tier and no disk tier) mounts a directory of files (file://); every file is read
// once to cache it on its owner. Reader processes (bench/cluster-read-client.ts, one DoraClient
// each) then read every file, all at once; the baseline is the same processes reading the same
// files with fs read streams (from the OS page cache). Runs alternate which side goes first.
// The CPU time of every process (from /proc) shows what bounds the rate.
//
//   node dist/bench/cluster-throughput-bench.js [--workers 1,2,3] [--files 24] [--file-mib 32]
//        [--readers 4] [--streams 1] [--runs 5]
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startLocalCluster, type LocalCluster, type LocalWorkerCache } from '../src/testing/local-cluster.js';
import { formatMs, formatRatio, summarize, table } from './bench-stats.js';
import { formatBytes, machineLine, positiveInt, positiveInts, runBench, writeRandomFile, type Cleanup } from './bench-tools.js';
import { startReadClient, type ReadClient, type ReadResult, type ReadSource } from './cluster-read-client.js';
import { machineBusySeconds, pidsByCommandLine, totalCpuSeconds } from './process-cpu.js';

const MiB = 1024 * 1024;
const MOUNT = '/data';
/** Every worker's memory tier holds the whole set, even alone; no disk tier, so every read is a memory hit. */
const CACHE_SET = { 'cache.memory.capacity': '1GiB', 'cache.disk.capacity': '0' } as const;

interface Args {
  readonly workers: number[];
  readonly files: number;
  readonly fileMib: number;
  readonly readers: number;
  readonly streams: number;
  readonly runs: number;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string', default: '1,2,3' },
      files: { type: 'string', default: '24' },
      'file-mib': { type: 'string', default: '32' },
      readers: { type: 'string', default: '4' },
      streams: { type: 'string', default: '1' },
      runs: { type: 'string', default: '5' },
    },
  });
  const args = {
    workers: positiveInts('workers', values.workers),
    files: positiveInt('files', values.files),
    fileMib: positiveInt('file-mib', values['file-mib']),
    readers: positiveInt('readers', values.readers),
    streams: positiveInt('streams', values.streams),
    runs: positiveInt('runs', values.runs),
  };
  if (args.files * args.fileMib > 1000) throw new Error(`Cannot run the benchmark with ${args.files} files of ${args.fileMib} MiB: one worker's 1 GiB memory tier must hold them all`);
  return args;
}

/** The processes whose CPU time is counted, by role. */
interface ProcessGroups {
  readonly workers: readonly number[];
  readonly readers: readonly number[];
  /** The coordinator and etcd. */
  readonly control: readonly number[];
}

/** One timed pass of every reader. */
interface Pass {
  readonly ms: number;
  readonly bytes: number;
  /** CPU seconds used during the pass, per worker (in start order), by all readers, by the coordinator and etcd, by this process. */
  readonly workerCpu: readonly number[];
  readonly readerCpu: number;
  readonly controlCpu: number;
  readonly benchCpu: number;
  /** Busy CPU seconds of the whole machine (every process, ours or not). */
  readonly machineCpu: number;
}

interface Result {
  readonly workers: number;
  readonly filesPerWorker: readonly number[];
  readonly passes: Record<ReadSource, Pass[]>;
}

async function cpuSnapshot(groups: ProcessGroups): Promise<{ workers: number[]; readers: number; control: number; bench: number; machine: number }> {
  const [workers, readers, control, machine] = await Promise.all([
    Promise.all(groups.workers.map((pid) => totalCpuSeconds([pid]))),
    totalCpuSeconds(groups.readers),
    totalCpuSeconds(groups.control),
    machineBusySeconds(),
  ]);
  const own = process.cpuUsage();
  return { workers, readers, control, bench: (own.user + own.system) / 1e6, machine };
}

/** Every reader reads every file once; checks each file's length. */
async function timedPass(readers: readonly ReadClient[], groups: ProcessGroups, source: ReadSource, names: readonly string[], size: number): Promise<Pass> {
  const before = await cpuSnapshot(groups);
  const started = performance.now();
  const results = await Promise.all(readers.map((r) => r.read({ source, verify: false })));
  const ms = performance.now() - started;
  const after = await cpuSnapshot(groups);
  checkResults(results, names, size, undefined, source);
  return {
    ms,
    bytes: readers.length * names.length * size,
    workerCpu: after.workers.map((s, i) => s - before.workers[i]!),
    readerCpu: after.readers - before.readers,
    controlCpu: after.control - before.control,
    benchCpu: after.bench - before.bench,
    machineCpu: after.machine - before.machine,
  };
}

function checkResults(results: readonly ReadResult[], names: readonly string[], size: number, digests: ReadonlyMap<string, string> | undefined, source: ReadSource): void {
  for (const [r, result] of results.entries()) {
    for (const name of names) {
      if (result.bytes[name] !== size) throw new Error(`Reader ${r} read ${result.bytes[name]} bytes of ${name} from ${source}, not ${size}`);
      if (digests !== undefined && result.sha256[name] !== digests.get(name)) throw new Error(`Reader ${r} read ${name} from ${source} with sha256 ${result.sha256[name]}, not ${digests.get(name)}`);
    }
  }
}

/** Pids of the cluster's workers (in start order), coordinator and etcd, found by their command lines. */
async function clusterPids(cluster: LocalCluster): Promise<{ workers: number[]; control: number[] }> {
  const root = dirname(cluster.workers[0]!.dataDir);
  const byDataDir = async (dir: string): Promise<number> => {
    const [pid, ...more] = await pidsByCommandLine((argv) => argv.some((a, i) => a === '--data-dir' && argv[i + 1] === dir) && !argv[0]!.endsWith('setpriv'));
    if (pid === undefined || more.length > 0) throw new Error(`Cannot find the one process with --data-dir ${dir}: found ${[pid, ...more].join(', ')}`);
    return pid;
  };
  const workers = await Promise.all(cluster.workers.map((w) => byDataDir(w.dataDir)));
  const coordinators = await Promise.all(cluster.coordinators.map((_, i) => byDataDir(join(root, `coordinator-${i}`))));
  const etcd = await pidsByCommandLine((argv) => argv.some((a, i) => a === '--listen-client-urls' && argv[i + 1] === cluster.etcd.endpoints[0]) && !argv[0]!.endsWith('setpriv'));
  if (etcd.length !== 1) throw new Error(`Cannot find the etcd serving ${cluster.etcd.endpoints[0]}: found ${etcd.length} processes`);
  return { workers, control: [...coordinators, ...etcd] };
}

async function caches(cluster: LocalCluster): Promise<LocalWorkerCache[]> {
  return Promise.all(cluster.workers.map((w) => w.cache()));
}

async function measureCluster(args: Args, cleanup: Cleanup, store: string, names: readonly string[], digests: ReadonlyMap<string, string>, workers: number): Promise<Result> {
  const size = args.fileMib * MiB;
  const total = names.length * size;
  const starting = startLocalCluster({ workers, set: { 'membership.leaseTtl': '5s', ...CACHE_SET }, mounts: [{ path: MOUNT, uri: `file://${store}/` }] });
  // Stops the cluster even if it is still starting when the benchmark is interrupted.
  const cluster = await cleanup.add(starting, (s) => s.then((c) => c.stop(), () => undefined));
  const readers: ReadClient[] = [];
  try {
    // Cache every file on its owner (untimed, checked).
    const client = cluster.client();
    for (let i = 0; i < names.length; i += 4) {
      await Promise.all(
        names.slice(i, i + 4).map(async (name) => {
          const hash = createHash('sha256');
          let bytes = 0;
          for await (const chunk of await client.read(`${MOUNT}/${name}`)) {
            bytes += (chunk as Buffer).length;
            hash.update(chunk as Buffer);
          }
          const digest = hash.digest('hex');
          if (bytes !== size || digest !== digests.get(name)) throw new Error(`Cannot cache ${name}: read ${bytes} bytes with sha256 ${digest}`);
        }),
      );
    }
    const owners = await Promise.all(names.map(async (name) => (await client.owners(`${MOUNT}/${name}`))[0]!.id));
    const filesPerWorker = cluster.workers.map((w) => owners.filter((id) => id === w.id).length);
    const warm = await caches(cluster);
    const pages = warm.reduce((n, c) => n + c.pages, 0);
    const pageSize = warm[0]!.pageSize;
    if (pages !== names.length * Math.ceil(size / pageSize)) throw new Error(`The workers hold ${pages} pages after the first read, not ${names.length * Math.ceil(size / pageSize)}`);

    for (let i = 0; i < args.readers; i++) {
      const reader = await startReadClient({ coordinator: cluster.coordinatorUrl, mount: MOUNT, dir: store, names, index: i, readers: args.readers, streams: args.streams });
      readers.push(cleanup.add(reader, (r) => r.stop()));
    }
    // Every reader checks every file once per side (untimed), which also warms its client.
    for (const source of ['dora', 'disk'] as const) checkResults(await Promise.all(readers.map((r) => r.read({ source, verify: true }))), names, size, digests, source);

    const pids = await clusterPids(cluster);
    const groups: ProcessGroups = { workers: pids.workers, readers: readers.map((r) => r.pid), control: pids.control };
    const before = await caches(cluster);
    const passes: Record<ReadSource, Pass[]> = { dora: [], disk: [] };
    for (let run = 0; run < args.runs; run++) {
      const order: ReadSource[] = run % 2 === 0 ? ['dora', 'disk'] : ['disk', 'dora'];
      for (const source of order) passes[source].push(await timedPass(readers, groups, source, names, size));
      const [d, k] = [passes.dora.at(-1)!, passes.disk.at(-1)!];
      console.error(`${workers} worker(s), run ${run + 1}/${args.runs}: dora ${formatMs(d.ms)}, disk ${formatMs(k.ms)}`);
    }
    const after = await caches(cluster);
    const misses = after.reduce((n, c) => n + c.misses, 0) - before.reduce((n, c) => n + c.misses, 0);
    const fromCache = after.reduce((n, c) => n + c.bytesFromCache, 0) - before.reduce((n, c) => n + c.bytesFromCache, 0);
    const expected = args.runs * args.readers * total;
    if (misses !== 0 || fromCache !== expected) throw new Error(`The timed reads were not all cache hits: ${misses} page misses, ${fromCache} bytes from the cache where ${expected} were read`);
    return { workers, filesPerWorker, passes };
  } finally {
    await Promise.all(readers.map((r) => r.stop()));
    await cluster.stop();
  }
}

function rateMBs(pass: Pass): number {
  return pass.bytes / 1e6 / (pass.ms / 1000);
}

function formatRateMBs(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} MB/s`;
}

function report(args: Args, results: readonly Result[]): void {
  const size = args.fileMib * MiB;
  const perPass = args.readers * args.files * size;
  const base = results.find((r) => r.workers === 1) ?? results[0]!;
  const baseRate = summarize(base.passes.dora.map(rateMBs)).median;

  const rows = [['workers', 'files per worker', 'dora median', 'dora min – max', `ratio to ${base.workers} worker${base.workers === 1 ? '' : 's'}`, 'local disk median', 'local disk min – max', 'dora / local disk']];
  for (const r of results) {
    const dora = summarize(r.passes.dora.map(rateMBs));
    const disk = summarize(r.passes.disk.map(rateMBs));
    rows.push([
      String(r.workers),
      r.filesPerWorker.join(' / '),
      formatRateMBs(dora.median),
      `${formatRateMBs(dora.min)} – ${formatRateMBs(dora.max)}`,
      formatRatio(dora.median, baseRate),
      formatRateMBs(disk.median),
      `${formatRateMBs(disk.min)} – ${formatRateMBs(disk.max)}`,
      formatRatio(dora.median, disk.median),
    ]);
  }

  // CPU: medians over the runs, as cores busy during the pass and as CPU seconds per GB delivered.
  const cpuRows = [['workers', 'read from', 'wall (median)', 'each worker, cores', 'readers, cores', 'coordinator + etcd, cores', 'all ours, cores', 'machine busy, cores', 'CPU s per GB: workers + readers', 'bound at 2 cores']];
  for (const r of results) {
    for (const source of ['dora', 'disk'] as const) {
      const passes = r.passes[source];
      const med = (f: (p: Pass) => number): number => summarize(passes.map(f)).median;
      const cores = (f: (p: Pass) => number): number => med((p) => f(p) / (p.ms / 1000));
      const gb = perPass / 1e9;
      const ours = (p: Pass): number => p.workerCpu.reduce((a, b) => a + b, 0) + p.readerCpu + p.controlCpu + p.benchCpu;
      const workerPerGb = med((p) => p.workerCpu.reduce((a, b) => a + b, 0)) / gb;
      const readerPerGb = med((p) => p.readerCpu) / gb;
      cpuRows.push([
        String(r.workers),
        source === 'dora' ? 'dora' : 'local disk',
        formatMs(med((p) => p.ms)),
        source === 'dora' ? r.passes.dora[0]!.workerCpu.map((_, i) => cores((p) => p.workerCpu[i]!).toFixed(2)).join(' / ') : '',
        cores((p) => p.readerCpu).toFixed(2),
        cores((p) => p.controlCpu).toFixed(2),
        cores(ours).toFixed(2),
        cores((p) => p.machineCpu).toFixed(2),
        source === 'dora' ? `${workerPerGb.toFixed(2)} + ${readerPerGb.toFixed(2)}` : `${readerPerGb.toFixed(2)}`,
        `${formatRateMBs((2 / (workerPerGb + readerPerGb)) * 1000)}`,
      ]);
    }
  }

  console.log(`${machineLine()}; ${args.runs} runs per worker count`);
  console.log(
    `${args.files} files of ${formatBytes(size)} (${formatBytes(args.files * size)}) on a file:// mount; each worker: 1 GiB memory tier, no disk tier, every timed read a memory hit (checked); ${args.readers} reader processes (node, one DoraClient each, ${args.streams} file${args.streams === 1 ? '' : 's'} at a time) each read every file: ${formatBytes(perPass)} per pass; local disk = the same processes reading the same files with fs read streams (1 MiB reads, OS page cache); MB = 10^6 bytes; every file's length checked in every pass, its sha256 once per reader and side`,
  );
  console.log('');
  console.log(table(rows));
  console.log('');
  console.log('CPU during the passes (medians of the runs; from /proc/<pid>/stat and /proc/stat; "bound at 2 cores" = 2 / (CPU s per GB) if nothing else ran):');
  console.log('');
  console.log(table(cpuRows));
  const json = {
    bench: 'cluster-throughput',
    files: args.files,
    fileBytes: size,
    readers: args.readers,
    streams: args.streams,
    results: results.map((r) => ({
      workers: r.workers,
      filesPerWorker: r.filesPerWorker,
      ...Object.fromEntries(
        (['dora', 'disk'] as const).map((source) => [
          source,
          r.passes[source].map((p) => ({ ms: round2(p.ms), workerCpu: p.workerCpu.map(round2), readerCpu: round2(p.readerCpu), controlCpu: round2(p.controlCpu), machineCpu: round2(p.machineCpu) })),
        ]),
      ),
    })),
  };
  console.log(JSON.stringify(json));
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const size = args.fileMib * MiB;
  const root = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-throughput-bench-')), (dir) => rm(dir, { recursive: true, force: true }));
  const store = join(root, 'store');
  await mkdir(store);
  const names = Array.from({ length: args.files }, (_, i) => `part-${String(i).padStart(3, '0')}.bin`);
  const digests = new Map<string, string>();
  for (const name of names) {
    await writeRandomFile(join(store, name), size);
    digests.set(name, createHash('sha256').update(await readFile(join(store, name))).digest('hex'));
  }
  const results: Result[] = [];
  for (const workers of args.workers) results.push(await measureCluster(args, cleanup, store, names, digests, workers));
  report(args, results);
}

runBench(main);
