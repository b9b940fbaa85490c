// Issue 3's memory benchmark: the worker's resident memory while it serves a working set 8x its
// memory tier (4 GiB of files through a 512 MiB tier, disk tier off), against the same worker with
// the cache off, side by side. The worker is a `dora start` process of its own; its RSS is
// sampled from /proc/<pid>/status every 250 ms while curl readers stream the working set twice,
// and its kernel-recorded peak (VmHWM) is read at the end.
//
//   node dist/bench/cache-memory-bench.js [--runs N] [--working-set-mib N] [--files N]
//        [--memory-mib N] [--readers N] [--passes N] [--sample-ms N]
import { mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMs, summarize, table, timeIt } from './bench-stats.js';
import { curlGet, formatBytes, httpText, machineLine, metric, positiveInt, processMemory, runBench, writeRandomFile, type Cleanup } from './bench-tools.js';
import { startDoraWorkerProcess } from './dora-worker-process.js';

const MiB = 1024 * 1024;
/** The bound the issue sets: RSS stays under the memory tier plus this. */
const HEADROOM = 300 * MiB;

interface Args {
  readonly runs: number;
  readonly workingSetMib: number;
  readonly files: number;
  readonly memoryMib: number;
  readonly readers: number;
  readonly passes: number;
  readonly sampleMs: number;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '3' },
      'working-set-mib': { type: 'string', default: '4096' },
      files: { type: 'string', default: '16' },
      'memory-mib': { type: 'string', default: '512' },
      readers: { type: 'string', default: '4' },
      passes: { type: 'string', default: '2' },
      'sample-ms': { type: 'string', default: '250' },
    },
  });
  return {
    runs: positiveInt('runs', values.runs),
    workingSetMib: positiveInt('working-set-mib', values['working-set-mib']),
    files: positiveInt('files', values.files),
    memoryMib: positiveInt('memory-mib', values['memory-mib']),
    readers: positiveInt('readers', values.readers),
    passes: positiveInt('passes', values.passes),
    sampleMs: positiveInt('sample-ms', values['sample-ms']),
  };
}

interface Config {
  readonly name: string;
  readonly flags: Readonly<Record<string, string>>;
  /** The memory tier's quota; 0 when the cache is off. */
  readonly tierBytes: number;
}

interface Sample {
  /** RSS once started, before any read. */
  readonly idleRss: number;
  /** Largest of the 250 ms samples. */
  readonly maxRss: number;
  /** The kernel's peak (VmHWM): catches spikes between samples. */
  readonly peakRss: number;
  readonly endRss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly pages: number;
  readonly hits: number;
  readonly misses: number;
  readonly ms: number;
}

/** One fresh worker: RSS sampled while `readers` curl processes read every file `passes` times. */
async function measure(args: Args, dataDir: string, names: readonly string[], config: Config, fileSize: number): Promise<Sample> {
  const worker = await startDoraWorkerProcess({ dataDir, flags: config.flags });
  try {
    const idleRss = (await processMemory(worker.pid)).rss;
    let maxRss = idleRss;
    const sampler = setInterval(() => {
      processMemory(worker.pid).then(
        (m) => (maxRss = Math.max(maxRss, m.rss)),
        () => undefined,
      );
    }, args.sampleMs);
    const { ms } = await timeIt(async () => {
      try {
        await Promise.all(
          Array.from({ length: args.readers }, async (_, reader) => {
            for (let pass = 0; pass < args.passes; pass++) {
              // Each reader its own share of the files, all shares read at once.
              for (let f = reader; f < names.length; f += args.readers) {
                const r = await curlGet(`${worker.workerUrl}/v1/read?path=${encodeURIComponent(`/ws/${names[f]}`)}`);
                if (r.status !== 200 || r.bytes !== fileSize) throw new Error(`Cannot trust a read of /ws/${names[f]}: status ${r.status}, ${r.bytes} of ${fileSize} bytes`);
              }
            }
          }),
        );
      } finally {
        clearInterval(sampler);
      }
    });
    const end = await processMemory(worker.pid);
    const text = await httpText(`${worker.workerUrl}/metrics`);
    const summary = JSON.parse(await httpText(`${worker.workerUrl}/v1/cache`)) as { pages: number; hits: number; misses: number };
    return {
      idleRss,
      maxRss: Math.max(maxRss, end.rss),
      peakRss: end.peakRss,
      endRss: end.rss,
      heapUsed: metric(text, 'dora_nodejs_heap_size_used_bytes'),
      external: metric(text, 'dora_nodejs_external_memory_bytes'),
      pages: summary.pages,
      hits: summary.hits,
      misses: summary.misses,
      ms,
    };
  } finally {
    await worker.stop();
  }
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const base = tmpdir();
  const free = await statfs(base).then((s) => s.bavail * s.bsize);
  let workingSet = args.workingSetMib * MiB;
  // The files, plus room to spare: the disk is shared with everything else.
  if (free < workingSet * 1.1 + 2 * 1024 * MiB) {
    const scaled = Math.floor((free - 2 * 1024 * MiB) / 1.1 / (args.files * MiB)) * args.files * MiB;
    if (scaled <= 0) throw new Error(`Cannot run the benchmark: ${formatBytes(free)} free in ${base}`);
    console.error(`only ${formatBytes(free)} free in ${base}: working set scaled down from ${formatBytes(workingSet)} to ${formatBytes(scaled)}`);
    workingSet = scaled;
  }
  const fileSize = Math.floor(workingSet / args.files / MiB) * MiB;
  const dir = cleanup.add(await mkdtemp(join(base, 'dora-memory-bench-')), (d) => rm(d, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  await mkdir(join(dataDir, 'root', 'ws'), { recursive: true });
  const names = Array.from({ length: args.files }, (_, i) => `file-${String(i).padStart(3, '0')}.bin`);
  const written = await timeIt(async () => {
    for (const name of names) await writeRandomFile(join(dataDir, 'root', 'ws', name), fileSize);
  });
  console.error(`wrote ${args.files} files of ${formatBytes(fileSize)} (${formatBytes(fileSize * args.files)}) in ${formatMs(written.ms)}`);

  const tierBytes = args.memoryMib * MiB;
  const configs: Config[] = [
    { name: `memory tier ${args.memoryMib} MiB, disk tier off`, flags: { 'cache.memory.capacity': `${args.memoryMib}MiB`, 'cache.disk.capacity': '0' }, tierBytes },
    { name: 'cache off (both tiers 0)', flags: { 'cache.memory.capacity': '0', 'cache.disk.capacity': '0' }, tierBytes: 0 },
  ];
  const samples = new Map<Config, Sample[]>(configs.map((c) => [c, []]));
  for (let run = 0; run < args.runs; run++) {
    const order = run % 2 === 0 ? configs : [...configs].reverse();
    const line: string[] = [];
    for (const config of order) {
      const sample = await measure(args, dataDir, names, config, fileSize);
      samples.get(config)!.push(sample);
      line.push(`${config.name}: max RSS ${formatBytes(sample.maxRss)}, peak ${formatBytes(sample.peakRss)}, ${formatMs(sample.ms)}`);
    }
    console.error(`run ${run + 1}/${args.runs}: ${line.join('; ')}`);
  }
  report(args, fileSize * args.files, configs, samples);
}

function report(args: Args, workingSet: number, configs: readonly Config[], samples: ReadonlyMap<Config, Sample[]>): void {
  const med = (list: readonly Sample[], pick: (s: Sample) => number): number => summarize(list.map(pick)).median;
  const cacheOff = samples.get(configs[1]!) ?? [];
  const header = ['worker', 'idle RSS', 'max RSS (250 ms samples)', 'peak RSS (VmHWM)', 'peak − cache-off peak', 'bound: tier + 300 MiB', 'within bound', 'RSS at end', 'heap used at end', 'external at end', 'pages cached', 'page hits / misses', 'time', 'read rate'];
  const rows = configs.map((config) => {
    const list = samples.get(config) ?? [];
    const peak = med(list, (s) => s.peakRss);
    const max = Math.max(peak, med(list, (s) => s.maxRss));
    const bound = config.tierBytes + HEADROOM;
    const ms = med(list, (s) => s.ms);
    return [
      config.name,
      formatBytes(med(list, (s) => s.idleRss)),
      formatBytes(med(list, (s) => s.maxRss)),
      formatBytes(peak),
      config.tierBytes === 0 ? '' : formatBytes(peak - med(cacheOff, (s) => s.peakRss)),
      formatBytes(bound),
      max <= bound ? 'yes' : 'NO',
      formatBytes(med(list, (s) => s.endRss)),
      formatBytes(med(list, (s) => s.heapUsed)),
      formatBytes(med(list, (s) => s.external)),
      String(med(list, (s) => s.pages)),
      `${med(list, (s) => s.hits)} / ${med(list, (s) => s.misses)}`,
      formatMs(ms),
      `${Math.round((workingSet * args.passes) / MiB / (ms / 1000)).toLocaleString('en-US')} MiB/s`,
    ];
  });
  console.log(`\n${machineLine()}; ${args.runs} runs, medians; a fresh \`dora start\` process per run`);
  console.log(`working set: ${args.files} files, ${formatBytes(workingSet)} in all, on file:// (the root mount); ${args.readers} curl readers, each its share of the files in turn, ${args.passes} passes over the whole set\n`);
  console.log(table([header, ...rows]));
  const json = configs.map((c) => ({ worker: c.name, tierBytes: c.tierBytes, samples: samples.get(c) }));
  console.log(JSON.stringify({ bench: 'cache-memory', ...args, workingSetBytes: workingSet, results: json }));
}

runBench(main);
