// Issue 6's FUSE benchmark: dora's FUSE mount side by side with bindfs (a pass-through FUSE file
// system over the same local directory) and that local directory itself, in one run:
//   1. sequential read of a file dora has cached, fio bs=1M, with 1 and 4 readers (MiB/s);
//   2. 4 KiB random reads of the same file, fio randread, psync, O_DIRECT, 4 jobs (IOPS);
//   3. `ls -l` of a directory of 10,000 small files: cold (never listed before) and warm (at once again);
//   4. the first byte of a cold 256 MiB object of an s3:// mount on moto behind a slow link
//      (DelayProxy): `head -c 1` through dora's mount against an SDK GetObject through the same link.
// dora runs as `dora start` in a process of its own, with its FUSE mount (see --layout); every
// reader is a process of its own (fio, ls, head). The file is cached in dora's worker
// by one untimed read through the mount (its sha256 checked), and dora's timed reads must all be
// cache hits. By default the kernel's caches are dropped before every timed read and cold listing,
// for all three alike, so dora's figures come from its own cache, not the kernel's; for bindfs the
// file beneath it is then read back into the page cache (bindfs is the machine's FUSE limit), and
// local reads come from the disk. Needs root
// (FUSE mounts, drop_caches), fio and bindfs.
//
//   node dist/bench/fuse-bench.js [--runs N] [--parts seq,random,ls,ttfb] [--size-mib N] [--readers 1,4]
//        [--random-jobs N] [--random-seconds N] [--random-direct yes|no] [--entries N] [--cold-mib N]
//        [--delay-ms N] [--link-mbit N] [--drop-caches yes|no] [--dir DIR] [--bindfs-args=--multithreaded]
//        [--set key=value]... [--fuse-set key=value]... [--cpu-prof DIR] [--layout beside|daemon]
// --layout beside (default): dora's mount runs in the worker's process (`dora start --fuse`), its
// reads of cached pages skip the network; daemon: `dora fuse mount` in a process of its own, reading
// through the worker's HTTP API.
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startDelayProxy, type DelayProxy } from '../src/testing/delay-proxy.js';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { S3Api } from '../src/ufs/s3/s3-api.js';
import { createDefaultUfsRegistry } from '../src/ufs/ufs-registry.js';
import { formatMs, timeIt } from './bench-stats.js';
import { commandVersion, httpText, positiveInt, positiveInts, runBench, writeRandomFile, type Cleanup } from './bench-tools.js';
import { startDoraWorkerProcess, type DoraWorkerProcess } from './dora-worker-process.js';
import { report, SIDES, type Results, type Samples, type Side } from './fuse-bench-report.js';
import { dropKernelCaches, isMounted, startBindfs, startDoraFuse } from './fuse-mounts.js';
import { runFio, timedRun, type FioJob, type TimedRun } from './fuse-readers.js';
import { cacheTotals, checkAllHits, fileDigests } from './s3-bench-tools.js';

const MiB = 1024 * 1024;
const FILE = 'big.bin';
const BUCKET = 'fuse-bench';
const LS_ENV = { ...process.env, LC_ALL: 'C' };

export type Part = 'seq' | 'random' | 'ls' | 'ttfb';
const PARTS: readonly Part[] = ['seq', 'random', 'ls', 'ttfb'];

export interface Args {
  readonly runs: number;
  readonly parts: ReadonlySet<Part>;
  readonly sizeMib: number;
  readonly readers: number[];
  readonly randomJobs: number;
  readonly randomSeconds: number;
  /**
   * O_DIRECT random reads: each reaches the file system. Buffered, the kernel's cache fills during
   * the run and serves repeats, the more of them the faster a side reads, which skews the ratios.
   */
  readonly randomDirect: boolean;
  readonly entries: number;
  readonly coldMib: number;
  readonly delayMs: number;
  /** 0: no cap. */
  readonly linkMbit: number;
  readonly dropCaches: boolean;
  readonly dir: string;
  readonly bindfsArgs: string[];
  /** Configuration of the dora server, e.g. `cache.pageSize=4MiB`. */
  readonly set: Record<string, string>;
  /** Configuration of the FUSE daemon, e.g. `fuse.readAhead=16MiB` (its --set). */
  readonly fuseSet: Record<string, string>;
  /** Where `node --cpu-prof` writes the profiles of the dora server (DIR/server) and the FUSE daemon (DIR/fuse). */
  readonly cpuProf: string | undefined;
  /** Where dora's FUSE mount runs: in the worker's process (`dora start --fuse`) or as a daemon of its own (`dora fuse mount`). */
  readonly layout: 'beside' | 'daemon';
}

function parseLayout(text: string): 'beside' | 'daemon' {
  if (text === 'beside' || text === 'daemon') return text;
  throw new Error(`Cannot run the benchmark with --layout ${JSON.stringify(text)}: beside or daemon`);
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '3' },
      parts: { type: 'string', default: PARTS.join(',') },
      'size-mib': { type: 'string', default: '1024' },
      readers: { type: 'string', default: '1,4' },
      'random-jobs': { type: 'string', default: '4' },
      'random-seconds': { type: 'string', default: '15' },
      'random-direct': { type: 'string', default: 'yes' },
      entries: { type: 'string', default: '10000' },
      'cold-mib': { type: 'string', default: '256' },
      'delay-ms': { type: 'string', default: '20' },
      'link-mbit': { type: 'string', default: '400' },
      'drop-caches': { type: 'string', default: 'yes' },
      dir: { type: 'string', default: tmpdir() },
      'bindfs-args': { type: 'string', default: '' },
      set: { type: 'string', multiple: true, default: [] },
      'fuse-set': { type: 'string', multiple: true, default: [] },
      'cpu-prof': { type: 'string' },
      layout: { type: 'string', default: 'beside' },
    },
  });
  const whole = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`Cannot run the benchmark with --${name} ${JSON.stringify(text)}: not a whole number`);
    return n;
  };
  const parts = values.parts.split(',').map((p) => p.trim());
  for (const part of parts) if (!PARTS.includes(part as Part)) throw new Error(`Cannot run the benchmark with --parts ${JSON.stringify(values.parts)}: each must be one of ${PARTS.join(', ')}`);
  const yesNo = (name: 'drop-caches' | 'random-direct'): boolean => {
    if (values[name] !== 'yes' && values[name] !== 'no') throw new Error(`Cannot run the benchmark with --${name} ${JSON.stringify(values[name])}: yes or no`);
    return values[name] === 'yes';
  };
  return {
    runs: positiveInt('runs', values.runs),
    parts: new Set(parts as Part[]),
    sizeMib: positiveInt('size-mib', values['size-mib']),
    readers: positiveInts('readers', values.readers),
    randomJobs: positiveInt('random-jobs', values['random-jobs']),
    randomSeconds: positiveInt('random-seconds', values['random-seconds']),
    randomDirect: yesNo('random-direct'),
    entries: positiveInt('entries', values.entries),
    coldMib: positiveInt('cold-mib', values['cold-mib']),
    delayMs: whole('delay-ms', values['delay-ms']),
    linkMbit: whole('link-mbit', values['link-mbit']),
    dropCaches: yesNo('drop-caches'),
    dir: values.dir,
    bindfsArgs: values['bindfs-args'].split(' ').filter((a) => a !== ''),
    set: keyValues('set', values.set),
    fuseSet: keyValues('fuse-set', values['fuse-set']),
    cpuProf: values['cpu-prof'],
    layout: parseLayout(values.layout),
  };
}

function keyValues(flag: string, pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new Error(`Cannot run the benchmark with --${flag} ${JSON.stringify(pair)}: expected key=value`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

/** The slow store of part 4: moto behind a DelayProxy, its cold objects' first bytes, an SDK client through the proxy. */
interface SlowStore {
  readonly server: S3ServerHandle;
  readonly proxy: DelayProxy;
  readonly api: S3Api;
  readonly firstBytes: ReadonlyMap<string, number>;
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true'; // the SDK client of part 4 runs in this process
  const has = (part: Part): boolean => args.parts.has(part);
  const versions = {
    fio: has('seq') || has('random') ? await commandVersion('fio', ['--version'], 'apt-get install -y fio') : '',
    bindfs: has('seq') || has('random') || has('ls') ? await commandVersion('bindfs', ['--version'], 'apt-get install -y bindfs') : '',
  };
  if (args.dropCaches) await dropKernelCaches(); // fails early without root
  const dir = await mkdtemp(join(args.dir, 'dora-fuse-bench-'));
  const mountPoints = { dora: join(dir, 'mnt-dora'), bindfs: join(dir, 'mnt-bindfs') };
  cleanup.add(dir, (d) => removeUnlessMounted(d, Object.values(mountPoints)));
  const dataDir = join(dir, 'data');
  const source = join(dataDir, 'root', 'bench'); // dora's /bench (its root mount is <dataDir>/root) and bindfs's source
  await mkdir(source, { recursive: true });
  const size = args.sizeMib * MiB;
  let sha256 = '';
  if (has('seq') || has('random')) {
    const written = await timeIt(() => writeRandomFile(join(source, FILE), size));
    sha256 = (await fileDigests(join(source, FILE))).sha256;
    console.error(`wrote ${args.sizeMib} MiB of random bytes in ${formatMs(written.ms)}`);
  }
  if (has('ls')) {
    const made = await timeIt(async () => {
      for (let run = 0; run < args.runs; run++) await makeEntries(join(source, `ls-${run}`), args.entries);
    });
    console.error(`created ${args.runs} directories of ${args.entries} files in ${formatMs(made.ms)}`);
  }
  const store = has('ttfb') ? await startSlowStore(args, cleanup) : undefined;

  const memoryMib = Math.ceil((size * 1.25) / MiB) + 128; // the file, the cold objects' first pages, room to spare
  const flags = { 'cache.memory.capacity': `${memoryMib}MiB`, ...args.set };
  const mounts = store === undefined ? [] : [{ path: '/s3', uri: `s3://${BUCKET}/`, options: { ...s3Options(store.server), endpoint: store.proxy.url }, readOnly: true }];
  const profile = (name: string): string[] => (args.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(args.cpuProf, name)]);
  await mkdir(mountPoints.dora, { recursive: true });
  await mkdir(mountPoints.bindfs, { recursive: true });
  // beside: the mount in the worker's process (`dora start --fuse`); daemon: `dora fuse mount` in a process of its own.
  const beside = args.layout === 'beside';
  const dora = cleanup.add(
    await startDoraWorkerProcess({ dataDir, flags: beside ? { ...flags, ...args.fuseSet } : flags, mounts, nodeArgs: profile('server'), args: beside ? ['--fuse', mountPoints.dora] : [] }),
    (d) => d.stop(),
  );
  const doraFuse = beside
    ? { mountPoint: mountPoints.dora, command: `dora start --fuse ${mountPoints.dora} (the mount in the worker's process)` }
    : cleanup.add(await startDoraFuse(mountPoints.dora, { coordinatorUrl: dora.coordinatorUrl, set: args.fuseSet, nodeArgs: profile('fuse') }), (d) => d.stop());
  const bindfs = has('seq') || has('random') || has('ls') ? cleanup.add(await startBindfs(source, mountPoints.bindfs, args.bindfsArgs), (b) => b.stop()) : undefined;
  const roots: Record<Side, string> = { dora: join(mountPoints.dora, 'bench'), bindfs: mountPoints.bindfs, local: source };

  if (has('seq') || has('random')) await cacheThroughMount(dora, join(roots.dora, FILE), size, sha256);

  const results: Results = {
    seq: new Map(args.readers.map((readers) => [readers, emptySamples()])),
    random: emptySamples(),
    lsCold: emptySamples(),
    lsWarm: emptySamples(),
    ttfb: { dora: [], doraLinkBytes: [], getObject: [], getRange: [], headStartup: [] },
    commands: new Map(),
  };
  const coldStart = async (warm?: readonly [string, readonly string[]]): Promise<void> => {
    if (!args.dropCaches) return;
    await dropKernelCaches();
    if (warm !== undefined) await timedRun(warm[0], warm[1]); // the reader's own binary and libraries back in the cache: only the data is cold
  };
  const fio = async (side: Side, job: FioJob, label: string): Promise<{ bytes: number; ios: number; seconds: number }> => {
    await coldStart();
    // bindfs stands for the FUSE limit of this machine: its own pages are dropped like dora's, the
    // file beneath it is read back into the page cache first (as dora's worker holds it in memory).
    if (side === 'bindfs' && args.dropCaches) await timedRun('dd', [`if=${join(source, FILE)}`, 'of=/dev/null', 'bs=1M']);
    const before = side === 'dora' ? await cacheTotals(dora.workerUrl) : undefined;
    const result = await runFio(join(roots[side], FILE), job);
    if (before !== undefined) checkAllHits(`dora's ${label} figures`, before, await cacheTotals(dora.workerUrl), 0, { atLeast: true });
    results.commands.set(`${label}, ${side}`, result.command);
    return { bytes: result.bytes, ios: result.ios, seconds: result.runtimeMs / 1000 };
  };
  const listing = async (side: Side, run: number, warm: boolean): Promise<number> => {
    const path = join(roots[side], `ls-${run}`);
    const listed = await timedRun('ls', ['-l', path], { env: LS_ENV });
    if (listed.code !== 0 || listed.lines !== args.entries + 1) {
      throw new Error(`Cannot trust "${listed.command}": exited with ${listed.code}, ${listed.lines} lines (expected ${args.entries + 1}): ${listed.stderr.trim()}`);
    }
    results.commands.set(`ls -l ${warm ? 'warm' : 'cold'}, ${side}`, `LC_ALL=C ${listed.command.replace(`ls-${run}`, 'ls-<run>')}`);
    return listed.ms;
  };

  for (let run = 0; run < args.runs; run++) {
    const order = SIDES.map((_, i) => SIDES[(i + run) % SIDES.length]!); // each side goes first in turn
    const done: string[] = [];
    if (has('seq')) {
      for (const readers of args.readers) {
        for (const side of order) {
          const label = `sequential read, ${readers} reader${readers === 1 ? '' : 's'}`;
          const r = await fio(side, { rw: 'read', bs: '1M', jobs: readers, size, invalidate: args.dropCaches }, label);
          results.seq.get(readers)![side].push(r.bytes / MiB / r.seconds);
          done.push(`seq×${readers} ${side} ${(r.bytes / MiB / r.seconds).toFixed(0)} MiB/s`);
        }
      }
    }
    if (has('random')) {
      for (const side of order) {
        const job: FioJob = { rw: 'randread', bs: '4k', jobs: args.randomJobs, size, seconds: args.randomSeconds, invalidate: args.dropCaches, direct: args.randomDirect };
        const r = await fio(side, job, `random 4 KiB reads, ${args.randomJobs} jobs`);
        results.random[side].push(r.ios / r.seconds);
        done.push(`random ${side} ${(r.ios / r.seconds).toFixed(0)} IOPS`);
      }
    }
    if (has('ls')) {
      for (const side of order) {
        await coldStart(['ls', ['-ld', '/']]);
        const cold = await listing(side, run, false);
        const warm = await listing(side, run, true);
        results.lsCold[side].push(cold);
        results.lsWarm[side].push(warm);
        done.push(`ls ${side} cold ${formatMs(cold)} warm ${formatMs(warm)}`);
      }
    }
    if (store !== undefined) done.push(await firstBytes(args, run, { store, dora, mountPoint: doraFuse.mountPoint, dir, coldStart, results }));
    console.error(`run ${run + 1}/${args.runs}: ${done.join(', ')}`);
  }
  report(args, { ...versions, doraFlags: flags, doraFuse: doraFuse.command, bindfsCommand: bindfs?.command ?? '' }, results);
}

function emptySamples(): Samples {
  return { dora: [], bindfs: [], local: [] };
}

/** `count` files of 100 bytes in a new directory `dir`, 64 written at a time. */
async function makeEntries(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const body = Buffer.alloc(100, 'x');
  for (let start = 0; start < count; start += 64) {
    const batch = Array.from({ length: Math.min(64, count - start) }, (_, i) => writeFile(join(dir, `f-${String(start + i).padStart(6, '0')}`), body));
    await Promise.all(batch);
  }
}

/** Reads `path` once through the mount (untimed, sha256 checked), then waits until dora's worker holds every page. */
async function cacheThroughMount(dora: DoraWorkerProcess, path: string, size: number, sha256: string): Promise<void> {
  const read = await timeIt(() => fileDigests(path));
  if (read.value.bytes !== size || read.value.sha256 !== sha256) {
    throw new Error(`Cannot trust a read of "${path}" through dora's mount: ${read.value.bytes} of ${size} bytes, sha256 ${read.value.sha256} (the file's is ${sha256})`);
  }
  const { pageSize } = JSON.parse(await httpText(`${dora.workerUrl}/v1/cache`)) as { pageSize: number };
  const pages = Math.ceil(size / pageSize);
  const deadline = Date.now() + 60_000;
  for (let cached = 0; cached < pages; cached = (await cacheTotals(dora.workerUrl)).pages) {
    if (Date.now() > deadline) throw new Error(`Cannot cache "${path}": ${cached} of ${pages} pages cached 60 s after reading it`);
    await sleep(100);
  }
  console.error(`cached the file in dora's worker (${pages} pages) by reading its ${(size / MiB).toFixed(0)} MiB once through the mount in ${formatMs(read.ms)}, sha256 checked`);
}

/** moto with `runs` cold objects and a small warm-up one, written straight to it; a DelayProxy in front; an SDK client through the proxy. */
async function startSlowStore(args: Args, cleanup: Cleanup): Promise<SlowStore> {
  const started = await timeIt(() => startMotoServer());
  const server = cleanup.add(started.value, (s) => s.stop());
  await createBucket(server, BUCKET);
  const firstBytes = new Map<string, number>();
  const ufs = await createDefaultUfsRegistry().create(`s3://${BUCKET}/`, s3Options(server));
  const seeded = await timeIt(async () => {
    try {
      const objects: Array<[string, number]> = [['warm.bin', MiB], ...Array.from({ length: args.runs }, (_, run): [string, number] => [`cold-${run}.bin`, args.coldMib * MiB])];
      for (const [key, size] of objects) {
        async function* chunks(): AsyncGenerator<Uint8Array> {
          for (let left = size; left > 0; left -= 8 * MiB) {
            const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(8 * MiB, left)));
            if (left === size) firstBytes.set(key, chunk[0]!);
            yield chunk;
          }
        }
        const status = await ufs.write(key, chunks());
        if (status.size !== size) throw new Error(`Cannot seed "${key}": wrote ${status.size} bytes, expected ${size}`);
      }
    } finally {
      await ufs.close();
    }
  });
  const endpoint = new URL(server.endpoint);
  const proxy = cleanup.add(
    await startDelayProxy({ host: endpoint.hostname, port: Number(endpoint.port) }, { delayMs: args.delayMs, ...(args.linkMbit > 0 ? { bytesPerSecond: (args.linkMbit * 1e6) / 8 } : {}) }),
    (p) => p.stop(),
  );
  const api = cleanup.add(
    new S3Api({ region: server.region, endpoint: proxy.url, forcePathStyle: true, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, maxSockets: 4 }),
    async (a) => a.destroy(),
  );
  console.error(`moto ready in ${formatMs(started.ms)}; seeded ${args.runs} × ${args.coldMib} MiB in ${formatMs(seeded.ms)}`);
  return { server, proxy, api, firstBytes };
}

interface FirstByteContext {
  readonly store: SlowStore;
  readonly dora: DoraWorkerProcess;
  readonly mountPoint: string;
  readonly dir: string;
  readonly coldStart: (warm?: readonly [string, readonly string[]]) => Promise<void>;
  readonly results: Results;
}

/**
 * Part 4 for one run: the first byte of `cold-<run>.bin` through dora's mount (`head -c 1`, which
 * must miss dora's cache) and straight from the store through the same proxy (SDK GetObject, whole
 * and ranged to one page), and `head -c 1` of a local file (the process's own startup). Before each,
 * the link is let go quiet, so no read-ahead of the one before shares it.
 */
async function firstBytes(args: Args, run: number, context: FirstByteContext): Promise<string> {
  const { store, dora, results } = context;
  const key = `cold-${run}.bin`;
  const head = async (path: string): Promise<TimedRun> => {
    await context.coldStart(['head', ['-c', '0', '/dev/null']]);
    const got = await timedRun('head', ['-c', '1', path]);
    if (got.code !== 0 || got.bytes !== 1) throw new Error(`Cannot trust "${got.command}": exited with ${got.code}, ${got.bytes} bytes: ${got.stderr.trim()}`);
    return got;
  };
  if (run === 0) {
    // Untimed: the mount's store client, the FUSE daemon's and the SDK's code paths warmed up once.
    await head(join(context.mountPoint, 's3', 'warm.bin'));
    await firstChunk(store.api, 'warm.bin');
    await writeFile(join(context.dir, 'one-byte'), 'x');
  }
  const contenders: Array<() => Promise<string>> = [
    async () => {
      await quiet(store.proxy);
      const before = await cacheTotals(dora.workerUrl);
      const linkBefore = store.proxy.bytes;
      const got = await head(join(context.mountPoint, 's3', key));
      const after = await cacheTotals(dora.workerUrl);
      await quiet(store.proxy); // what the read set going (read-ahead) has finished too
      results.ttfb.doraLinkBytes.push(store.proxy.bytes - linkBefore);
      if (after.misses === before.misses) throw new Error(`Cannot trust "${got.command}": it missed no page of dora's cache, so the file was not cold`);
      if (got.first[0] !== store.firstBytes.get(key)) throw new Error(`Cannot trust "${got.command}": byte ${got.first[0]}, the object's first is ${store.firstBytes.get(key)}`);
      results.ttfb.dora.push(got.ms);
      results.commands.set('first byte, dora', got.command.replace(key, 'cold-<run>.bin'));
      return `dora ${formatMs(got.ms)}`;
    },
    async () => {
      await quiet(store.proxy);
      const got = await firstChunk(store.api, key);
      if (got.first !== store.firstBytes.get(key)) throw new Error(`Cannot trust GetObject of "${key}": byte ${got.first}, the object's first is ${store.firstBytes.get(key)}`);
      results.ttfb.getObject.push(got.ms);
      results.commands.set('first byte, store', `GetObject of s3://${BUCKET}/cold-<run>.bin at ${store.proxy.url} (AWS SDK v3 in this process, one client for every run, warmed up once; timed from the call until the body's first chunk, the rest not read)`);
      return `GetObject ${formatMs(got.ms)}`;
    },
    async () => {
      await quiet(store.proxy);
      const got = await firstChunk(store.api, key, `bytes=0-${MiB - 1}`);
      results.ttfb.getRange.push(got.ms);
      results.commands.set('first byte, store, ranged', `the same with Range: bytes=0-${MiB - 1} (one dora page)`);
      return `GetObject 1 MiB range ${formatMs(got.ms)}`;
    },
    async () => {
      const got = await head(join(context.dir, 'one-byte'));
      results.ttfb.headStartup.push(got.ms);
      results.commands.set('head startup', got.command);
      return `head startup ${formatMs(got.ms)}`;
    },
  ];
  if (run % 2 === 1) contenders.reverse();
  const done: string[] = [];
  for (const contender of contenders) done.push(await contender());
  await quiet(store.proxy);
  return `first byte: ${done.join(', ')}`;
}

/** An SDK GetObject through the proxy: ms until its body's first chunk, and that chunk's first byte. The rest is not read. */
async function firstChunk(api: S3Api, key: string, range?: string): Promise<{ ms: number; first: number }> {
  const started = performance.now();
  const got = await api.get(BUCKET, key, { range });
  return new Promise((resolve, reject) => {
    got.body.once('data', (chunk: Buffer) => {
      const ms = performance.now() - started;
      got.body.destroy();
      resolve({ ms, first: chunk[0]! });
    });
    got.body.once('error', reject);
    got.body.once('end', () => reject(new Error(`Cannot read the first byte of "${key}": its body is empty`)));
  });
}

/** Waits until the proxy has carried nothing for 500 ms (read-ahead of an earlier read done, its link free), at most 2 minutes. */
async function quiet(proxy: DelayProxy): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (let bytes = -1; bytes !== proxy.bytes && Date.now() < deadline; ) {
    bytes = proxy.bytes;
    await sleep(500);
  }
}

/** Removes the benchmark's directory, unless a mount point in it is still mounted (rm would reach through it). */
async function removeUnlessMounted(dir: string, mountPoints: readonly string[]): Promise<void> {
  for (const mountPoint of mountPoints) {
    if (await isMounted(mountPoint)) {
      console.error(`not removing ${dir}: ${mountPoint} is still mounted (umount -l ${mountPoint}, then rm -r ${dir})`);
      return;
    }
  }
  await rm(dir, { recursive: true, force: true });
}

runBench(main);
