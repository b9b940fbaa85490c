// Issue 7's benchmark: a dora load job over many small files and over a few large ones on an S3
// server (moto), side by side with `aws s3 sync` and `rclone copy` of the same prefix to local
// disk. Every run is cold on both sides: dora starts afresh (embedded, an empty data directory)
// and each copy goes to a new, empty directory.
//
//   node dist/bench/job-load-bench.js [--runs 3] [--files 10000] [--large-files 8] [--large-mib 256]
import { randomBytes, randomFillSync } from 'node:crypto';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DoraClient } from '../src/client/dora-client.js';
import type { DoraConfig } from '../src/conf/config-keys.js';
import { resolveConfig } from '../src/conf/resolve-config.js';
import { isActive, type JobRecord } from '../src/job/job-types.js';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { createDefaultUfsRegistry } from '../src/ufs/ufs-registry.js';
import { formatMs, formatRatio, summarize, table, timeIt, type Summary } from './bench-stats.js';
import { formatBytes, machineLine, positiveInt, runBench, type Cleanup } from './bench-tools.js';
import { awsSync, countTree, rcloneCopy, type CopyCommand } from './copy-baselines.js';
import { machineBusySeconds, pidsByCommandLine, processCpuSeconds } from './process-cpu.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BUCKET = 'dora-jobs-bench';
const MOUNT = '/s3';
/** The disk tier holds the large set whole; the memory tier keeps its default (512 MiB). */
const CACHE_FLAGS = { 'cache.disk.capacity': '3GiB' } as const;
const SMALL_SIZE = 16 * KiB;
const POLL_MS = 20;

interface Args {
  readonly runs: number;
  readonly files: number;
  readonly largeFiles: number;
  readonly largeMib: number;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '3' },
      files: { type: 'string', default: '10000' },
      'large-files': { type: 'string', default: '8' },
      'large-mib': { type: 'string', default: '256' },
    },
  });
  return {
    runs: positiveInt('runs', values.runs),
    files: positiveInt('files', values.files),
    largeFiles: positiveInt('large-files', values['large-files']),
    largeMib: positiveInt('large-mib', values['large-mib']),
  };
}

/** Files of one size under one prefix of the bucket. */
interface DataSet {
  readonly prefix: string;
  readonly files: number;
  readonly size: number;
}

const total = (set: DataSet): number => set.files * set.size;
const describe = (set: DataSet): string => `${set.files.toLocaleString('en-US')} files of ${set.size < MiB ? `${set.size / KiB} KiB` : formatBytes(set.size)} (${formatBytes(total(set))})`;

/** One timed operation: wall-clock ms and the CPU seconds moto and the whole machine used meanwhile. */
interface Measured {
  readonly ms: number;
  readonly motoCpu: number;
  readonly machineCpu: number;
}

type Measure = <T>(fn: () => Promise<T>) => Promise<{ measured: Measured; value: T }>;

/** One way to bring a data set from S3 to this machine; throws unless every file and byte arrived. */
interface Contender {
  readonly name: string;
  run(set: DataSet, measure: Measure): Promise<Measured>;
}

/** Runs `count` calls of `fn`, at most `limit` at a time. */
async function inParallel(count: number, limit: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

async function* randomChunks(size: number): AsyncGenerator<Uint8Array> {
  for (let left = size; left > 0; left -= MiB) yield randomFillSync(Buffer.allocUnsafe(Math.min(MiB, left)));
}

/** Random bytes for every file: small ones in single PUTs (32 at a time), large ones as streams (multipart, 2 at a time). */
async function seed(server: S3ServerHandle, sets: readonly DataSet[]): Promise<void> {
  const ufs = await createDefaultUfsRegistry().create(`s3://${BUCKET}/`, s3Options(server));
  try {
    for (const set of sets) {
      const large = set.size > 8 * MiB;
      await inParallel(set.files, large ? 2 : 32, async (i) => {
        const key = `${set.prefix}/file-${String(i).padStart(6, '0')}.bin`;
        const status = await ufs.write(key, large ? randomChunks(set.size) : randomBytes(set.size));
        if (status.size !== set.size) throw new Error(`Cannot seed "${key}": wrote ${status.size} bytes, expected ${set.size}`);
      });
    }
  } finally {
    await ufs.close();
  }
}

/** Polls a job until it ends. */
async function ended(client: DoraClient, id: string): Promise<JobRecord> {
  for (;;) {
    const job = await client.jobs.status(id);
    if (!isActive(job.state)) return job;
    await sleep(POLL_MS);
  }
}

/**
 * dora: a fresh embedded dora (coordinator and one worker, empty cache) with the bucket mounted at
 * /s3; timed from submitting the load job to seeing it succeeded. `flushMs` collects how long the
 * worker then took to have every fetched page in its page store (untimed).
 */
function doraContender(server: S3ServerHandle, options: { root: string; flushMs: Map<DataSet, number[]> }): Contender {
  const { root, flushMs } = options;
  return {
    name: 'dora load job',
    async run(set, measure) {
      const dataDir = await mkdtemp(join(root, 'dora-'));
      let dora: Embedded | undefined;
      let client: DoraClient | undefined;
      try {
        dora = await startEmbedded({ dataDir, flags: CACHE_FLAGS });
        await dora.mounts.add({ path: MOUNT, uri: `s3://${BUCKET}/`, options: s3Options(server) });
        const c = (client = new DoraClient({ address: dora.coordinatorUrl }));
        const { measured, value: job } = await measure(async () => ended(c, (await c.jobs.submit({ kind: 'load', path: `${MOUNT}/${set.prefix}` })).id));
        const p = job.progress;
        if (job.state !== 'succeeded' || p.filesDone !== set.files || p.bytesDone !== total(set) || p.filesFailed + p.filesSkipped > 0) {
          throw new Error(`Cannot trust the load of ${MOUNT}/${set.prefix}: ${job.state}, ${p.filesDone} files (${p.bytesDone} bytes) done, ${p.filesFailed} failed, ${p.filesSkipped} skipped; expected ${set.files} files, ${total(set)} bytes`);
        }
        const worker = dora.worker;
        flushMs.set(set, [...(flushMs.get(set) ?? []), (await timeIt(() => worker.cache.flush())).ms]);
        checkCached(worker.cacheSummary(), set);
        return measured;
      } finally {
        await client?.close();
        await dora?.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Throws unless every byte of the set came from the store and every page is in the disk tier. */
function checkCached(summary: ReturnType<Embedded['worker']['cacheSummary']>, set: DataSet): void {
  const pages = set.files * Math.ceil(set.size / summary.pageSize);
  const disk = summary.tiers.find((tier) => tier.name.startsWith('disk'));
  if (summary.bytesFromStore !== total(set) || disk?.pages !== pages) {
    throw new Error(`Cannot trust the load of ${set.prefix}: ${summary.bytesFromStore} bytes fetched from the store (expected ${total(set)}), ${disk?.pages} pages on disk (expected ${pages})`);
  }
}

/** A command-line copy into a new directory, counted after the run and removed; `signal` kills a copy under way. */
function copyContender(command: CopyCommand, options: { root: string; signal: AbortSignal }): Contender {
  const { root, signal } = options;
  return {
    name: command.name,
    async run(set, measure) {
      const dir = await mkdtemp(join(root, 'copy-'));
      try {
        const { measured } = await measure(() => command.copy(set.prefix, dir, { signal }));
        const got = await countTree(dir);
        if (got.files !== set.files || got.bytes !== total(set)) throw new Error(`Cannot trust "${command.name}" of ${set.prefix}: it wrote ${got.files} files, ${got.bytes} bytes; expected ${set.files}, ${total(set)}`);
        return measured;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Samples per contender name, one per run. */
type Samples = Map<string, Measured[]>;

/** What a benchmark run found, for the report. */
interface Outcome {
  readonly versions: readonly string[];
  /** dora's configuration as each run resolves it. */
  readonly config: DoraConfig;
  readonly results: ReadonlyMap<DataSet, Samples>;
  readonly flushMs: ReadonlyMap<DataSet, number[]>;
}

function report(args: Args, outcome: Outcome): void {
  const { versions, config, results, flushMs } = outcome;
  const { cache } = config;
  console.log(`${machineLine()}; moto_server; ${versions.join('; ')}; ${args.runs} runs`);
  console.log(
    `every run cold: dora started afresh (embedded, ${wholeUnits(cache.memory.capacity)} memory tier + ${wholeUnits(cache.disk.capacity)} disk tier, ${wholeUnits(cache.pageSize)} pages) per run, the copies to a new empty directory; time = dora: job submitted -> seen succeeded (polled every ${POLL_MS} ms), copies: the command's wall-clock time, process start included; MB = 10^6 bytes; ratio = tool median / dora median (> 1: dora faster); CPU = seconds used / wall time, medians`,
  );
  const json: Record<string, unknown> = {};
  for (const [set, samples] of results) {
    const stats = (name: string, f: (m: Measured) => number): Summary => summarize((samples.get(name) ?? []).map(f));
    const [doraName] = [...samples.keys()];
    const doraMedian = stats(doraName ?? '', (m) => m.ms).median;
    const rows = [['tool', 'median', 'min – max', 'files/s', 'MB/s', 'ratio', 'moto CPU, cores', 'machine busy, cores']];
    for (const name of samples.keys()) {
      const time = stats(name, (m) => m.ms);
      rows.push([
        name,
        formatMs(time.median),
        `${formatMs(time.min)} – ${formatMs(time.max)}`,
        perSecond(set.files, time.median),
        perSecond(total(set) / 1e6, time.median),
        name === doraName ? '—' : formatRatio(time.median, doraMedian),
        stats(name, (m) => m.motoCpu / (m.ms / 1000)).median.toFixed(2),
        stats(name, (m) => m.machineCpu / (m.ms / 1000)).median.toFixed(2),
      ]);
    }
    const flush = summarize(flushMs.get(set) ?? [0]);
    console.log(`\n${describe(set)} under s3://${BUCKET}/${set.prefix}/\n`);
    console.log(table(rows));
    console.log(`\ndora: after the job succeeded, every page was in the disk tier within ${formatMs(flush.max)} (median ${formatMs(flush.median)}; untimed)`);
    json[set.prefix] = { files: set.files, size: set.size, flushMs: flushMs.get(set), ...Object.fromEntries([...samples].map(([name, ms]) => [name, ms])) };
  }
  console.log('');
  // Two decimals: more digits would only be noise.
  console.log(JSON.stringify({ bench: 'job-load', runs: args.runs, ...json }, (_key, value: unknown) => (typeof value === 'number' ? Math.round(value * 100) / 100 : value)));
}

/** A size as whole GiB or MiB where it is one (`3 GiB`, `512 MiB`), else as formatBytes gives it. */
function wholeUnits(bytes: number): string {
  if (bytes > 0 && bytes % (1024 * MiB) === 0) return `${bytes / (1024 * MiB)} GiB`;
  if (bytes > 0 && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  return formatBytes(bytes);
}

/** `1234` things in `ms` → `"1,234"` per second, three significant figures under 1,000. */
function perSecond(count: number, ms: number): string {
  const rate = (count * 1000) / ms;
  return rate >= 1000 ? Math.round(rate).toLocaleString('en-US') : rate.toPrecision(3);
}

/** Throws unless the file system under `dir` has `bytes` free. */
async function checkFreeSpace(dir: string, bytes: number): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < bytes) throw new Error(`Cannot run the benchmark in "${dir}": ${formatBytes(free)} free, it needs ${formatBytes(bytes)} (moto's copy, dora's disk tier and a local copy)`);
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const sets: DataSet[] = [
    { prefix: 'small', files: args.files, size: SMALL_SIZE },
    { prefix: 'large', files: args.largeFiles, size: args.largeMib * MiB },
  ];
  const root = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-job-load-bench-')), (dir) => rm(dir, { recursive: true, force: true }));
  const data = sets.reduce((sum, set) => sum + total(set), 0);
  await checkFreeSpace(root, 3 * data + 1024 * MiB);
  const server = cleanup.add(await startMotoServer(), (s) => s.stop());
  const port = new URL(server.endpoint).port;
  const [motoPid, ...others] = await pidsByCommandLine((argv) => argv.includes('moto.server') && argv.includes(port) && !argv[0]!.endsWith('setpriv'));
  if (motoPid === undefined || others.length > 0) throw new Error(`Cannot find the one moto_server on port ${port}`);

  await createBucket(server, BUCKET);
  const seeded = await timeIt(() => seed(server, sets));
  console.error(`seeded ${sets.map(describe).join(' and ')} in ${formatMs(seeded.ms)} at ${server.endpoint}`);

  const flushMs = new Map<DataSet, number[]>();
  const baselines = [await awsSync(server, { bucket: BUCKET, configDir: root }), await rcloneCopy(server, { bucket: BUCKET, configDir: root })];
  // Added last, so run first: a copy under way is killed before its directory is removed.
  const stopCopies = cleanup.add(new AbortController(), async (controller) => controller.abort());
  const contenders = [doraContender(server, { root, flushMs }), ...baselines.map((command) => copyContender(command, { root, signal: stopCopies.signal }))];
  const measure: Measure = async (fn) => {
    const [moto0, machine0] = await Promise.all([processCpuSeconds(motoPid), machineBusySeconds()]);
    const { ms, value } = await timeIt(fn);
    const [moto1, machine1] = await Promise.all([processCpuSeconds(motoPid), machineBusySeconds()]);
    return { measured: { ms, motoCpu: moto1 - moto0, machineCpu: machine1 - machine0 }, value };
  };
  const results = new Map<DataSet, Samples>();
  for (const set of sets) {
    // The dora row first in the report whatever the order of the runs.
    const samples: Samples = new Map(contenders.map((c) => [c.name, []]));
    results.set(set, samples);
    for (let run = 0; run < args.runs; run++) {
      // Alternate the order, so no side always meets moto first (or last).
      const order = run % 2 === 0 ? contenders : [...contenders].reverse();
      const line: string[] = [];
      for (const contender of order) {
        const measured = await contender.run(set, measure);
        samples.get(contender.name)?.push(measured);
        line.push(`${contender.name} ${formatMs(measured.ms)}`);
      }
      console.error(`${set.prefix}, run ${run + 1}/${args.runs}: ${line.join(', ')}`);
    }
  }
  const config = await resolveConfig({ env: {}, flags: { ...CACHE_FLAGS } });
  report(args, { versions: baselines.map((b) => b.version), config, results, flushMs });
}

runBench(main);
