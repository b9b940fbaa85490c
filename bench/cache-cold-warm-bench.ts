// Issue 3's cold/warm benchmark: the first read of an object through a fresh dora worker (every
// page fetched from S3) against the aws CLI downloading it directly, and the second read through
// the same worker (every page from its cache) against that first one. The S3 server (Swift, which
// serves ranged GETs from disk) sits behind a DelayProxy: a "far away" store with a one-way delay
// on every packet and a shared bandwidth cap.
//
//   node dist/bench/cache-cold-warm-bench.js [--runs N] [--size-mib N] [--delay-ms N] [--link-mbit N]
//        [--window-kib N] [--read-ahead 8[,16,…]] [--set key=value]... [--server swift|moto] [--cpu-prof DIR]
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { MountRequest } from '../src/mount/mount-info.js';
import { startDelayProxy, type DelayProxy } from '../src/testing/delay-proxy.js';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { startSwiftS3Server } from '../src/testing/swift-s3-server.js';
import { createDefaultUfsRegistry } from '../src/ufs/ufs-registry.js';
import { formatMs, formatRate, formatRatio, summarize, table, timeIt, type Summary } from './bench-stats.js';
import { commandVersion, curlGet, httpText, machineLine, metric, positiveInt, runBench, type Cleanup, awsEnvironment } from './bench-tools.js';
import { startDoraWorkerProcess } from './dora-worker-process.js';

const MiB = 1024 * 1024;
const BUCKET = 'dora-bench';
const KEY = 'big.bin';
const MOUNT = '/s3';

interface Args {
  readonly runs: number;
  readonly sizeMib: number;
  readonly delayMs: number;
  /** 0: no cap. */
  readonly linkMbit: number;
  readonly windowKib: number;
  readonly readAhead: number[];
  /** More configuration for the worker, e.g. `cache.pageSize=4MiB`. */
  readonly set: Record<string, string>;
  readonly server: 'swift' | 'moto';
  readonly cpuProf: string | undefined;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      'size-mib': { type: 'string', default: '256' },
      'delay-ms': { type: 'string', default: '10' },
      'link-mbit': { type: 'string', default: '1000' },
      'window-kib': { type: 'string', default: '4096' },
      'read-ahead': { type: 'string', default: '8' },
      set: { type: 'string', multiple: true, default: [] },
      server: { type: 'string', default: 'swift' },
      'cpu-prof': { type: 'string' },
    },
  });
  const whole = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`Cannot run the benchmark with --${name} ${JSON.stringify(text)}: not a whole number`);
    return n;
  };
  if (values.server !== 'swift' && values.server !== 'moto') throw new Error(`Cannot run the benchmark with --server ${JSON.stringify(values.server)}: swift or moto`);
  return {
    runs: positiveInt('runs', values.runs),
    sizeMib: positiveInt('size-mib', values['size-mib']),
    delayMs: whole('delay-ms', values['delay-ms']),
    linkMbit: whole('link-mbit', values['link-mbit']),
    windowKib: positiveInt('window-kib', values['window-kib']),
    readAhead: values['read-ahead'].split(',').map((v) => whole('read-ahead', v.trim())),
    set: Object.fromEntries(
      values.set.map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 1) throw new Error(`Cannot run the benchmark with --set ${JSON.stringify(pair)}: expected key=value`);
        return [pair.slice(0, eq), pair.slice(eq + 1)];
      }),
    ),
    server: values.server,
    cpuProf: values['cpu-prof'],
  };
}

/** Runs a command and counts its stdout bytes (the object, for `aws s3 cp … -`). */
function countStdout(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4096)));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`Cannot run "${command} ${args.join(' ')}": exited with ${code}:\n${stderr}`))));
  });
}


/** Writes the object straight to the server (not through the proxy), as a multipart upload. */
async function seed(server: S3ServerHandle, size: number): Promise<void> {
  const ufs = await createDefaultUfsRegistry().create(`s3://${BUCKET}/`, s3Options(server));
  try {
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let left = size; left > 0; left -= 8 * MiB) yield randomFillSync(Buffer.allocUnsafe(Math.min(8 * MiB, left)));
    }
    const status = await ufs.write(KEY, chunks());
    if (status.size !== size) throw new Error(`Cannot seed "${KEY}": wrote ${status.size} bytes, expected ${size}`);
  } finally {
    await ufs.close();
  }
}

interface DoraSample {
  readonly coldMs: number;
  readonly warmMs: number;
  /** Bytes the worker fetched from the store during the cold read. */
  readonly storeBytes: number;
}

/** A fresh worker (new data directory, nothing cached), the object read through it twice. */
async function doraColdWarm(args: Args, server: S3ServerHandle, proxy: DelayProxy, readAhead: number, size: number, run: number): Promise<DoraSample> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dora-cold-bench-data-'));
  const mount: MountRequest = { path: MOUNT, uri: `s3://${BUCKET}/`, options: { ...s3Options(server), endpoint: proxy.url }, readOnly: true };
  try {
    const worker = await startDoraWorkerProcess({
      dataDir,
      flags: { ...args.set, 'cache.readAheadPages': String(readAhead) },
      mounts: [mount],
      nodeArgs: args.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(args.cpuProf, `read-ahead-${readAhead}`, `run-${run}`)],
    });
    try {
      const url = `${worker.workerUrl}/v1/read?path=${encodeURIComponent(`${MOUNT}/${KEY}`)}`;
      const read = async (): Promise<number> => {
        const { ms, value } = await timeIt(() => curlGet(url));
        if (value.status !== 200 || value.bytes !== size) throw new Error(`Cannot trust a read through dora: status ${value.status}, ${value.bytes} of ${size} bytes`);
        return ms;
      };
      const coldMs = await read();
      const afterCold = await httpText(`${worker.workerUrl}/metrics`);
      const warmMs = await read();
      const afterWarm = await httpText(`${worker.workerUrl}/metrics`);
      const misses = (text: string): number => metric(text, 'dora_cache_page_requests_total', { result: 'miss' });
      if (misses(afterWarm) !== misses(afterCold)) throw new Error(`Cannot trust the warm read: ${misses(afterWarm) - misses(afterCold)} page misses`);
      return { coldMs, warmMs, storeBytes: metric(afterCold, 'dora_cache_bytes_total', { source: 'store' }) };
    } finally {
      await worker.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const size = args.sizeMib * MiB;
  const awsVersion = await commandVersion('aws', ['--version'], 'pip install awscli');
  const dir = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-cold-bench-')), (d) => rm(d, { recursive: true, force: true }));
  const started = await timeIt(() => (args.server === 'swift' ? startSwiftS3Server() : startMotoServer()));
  const server = cleanup.add(started.value, (s) => s.stop());
  await createBucket(server, BUCKET);
  const seeded = await timeIt(() => seed(server, size));
  console.error(`${server.name} ready in ${formatMs(started.ms)}; seeded ${args.sizeMib} MiB in ${formatMs(seeded.ms)}`);
  const endpoint = new URL(server.endpoint);
  const proxy = cleanup.add(
    await startDelayProxy(
      { host: endpoint.hostname, port: Number(endpoint.port) },
      { delayMs: args.delayMs, windowBytes: args.windowKib * 1024, ...(args.linkMbit > 0 ? { bytesPerSecond: (args.linkMbit * 1e6) / 8 } : {}) },
    ),
    (p) => p.stop(),
  );
  const awsEnv = await awsEnvironment(server, dir);
  const awsCp = ['s3', 'cp', `s3://${BUCKET}/${KEY}`, '-', '--endpoint-url', proxy.url];
  const awsRead = async (): Promise<number> => {
    const { ms, value } = await timeIt(() => countStdout('aws', awsCp, awsEnv));
    if (value !== size) throw new Error(`Cannot trust "aws ${awsCp.join(' ')}": ${value} of ${size} bytes`);
    return ms;
  };
  await awsRead(); // untimed: the object into the server's page cache, the CLI's modules into ours

  const startupMs: number[] = [];
  const awsMs: number[] = [];
  const dora = new Map<number, DoraSample[]>(args.readAhead.map((ra) => [ra, []]));
  for (let run = 0; run < args.runs; run++) {
    startupMs.push((await timeIt(() => commandVersion('aws', ['--version'], ''))).ms);
    const contenders: Array<() => Promise<string>> = [
      ...args.readAhead.map((ra) => async () => {
        const sample = await doraColdWarm(args, server, proxy, ra, size, run);
        if (sample.storeBytes < size) throw new Error(`Cannot trust the cold read: only ${sample.storeBytes} bytes came from the store`);
        dora.get(ra)!.push(sample);
        return `dora(readAhead ${ra}) cold ${formatMs(sample.coldMs)} warm ${formatMs(sample.warmMs)}`;
      }),
      async () => {
        const ms = await awsRead();
        awsMs.push(ms);
        return `aws s3 cp ${formatMs(ms)}`;
      },
    ];
    if (run % 2 === 1) contenders.reverse();
    const line: string[] = [];
    for (const contender of contenders) line.push(await contender());
    console.error(`run ${run + 1}/${args.runs}: ${line.join(', ')}`);
  }
  report(args, { awsVersion, server: server.name, proxyConnections: proxy.connections }, summarize(startupMs), summarize(awsMs), dora);
  console.log(JSON.stringify({ bench: 'cache-cold-warm', ...args, awsMs, awsStartupMs: startupMs, dora: Object.fromEntries(dora) }, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
}

function report(args: Args, about: { awsVersion: string; server: string; proxyConnections: number }, startup: Summary, aws: Summary, dora: ReadonlyMap<number, DoraSample[]>): void {
  const range = (s: Summary): string => `${formatMs(s.min)} – ${formatMs(s.max)}`;
  const header = ['read', 'dora median', 'dora min – max', 'baseline', 'baseline median', 'baseline min – max', 'dora rate', 'ratio (baseline / dora)', 'target'];
  const rows: string[][] = [];
  for (const [ra, samples] of dora) {
    const cold = summarize(samples.map((s) => s.coldMs));
    const warm = summarize(samples.map((s) => s.warmMs));
    rows.push([`cold, readAheadPages ${ra}`, formatMs(cold.median), range(cold), '`aws s3 cp … -`', formatMs(aws.median), range(aws), formatRate(args.sizeMib, cold.median, 'MiB'), formatRatio(aws.median, cold.median), '≥ 0.90x']);
    rows.push([`cold, readAheadPages ${ra}, aws startup subtracted`, formatMs(cold.median), range(cold), '`aws s3 cp … -` − `aws --version`', formatMs(aws.median - startup.median), '', '', formatRatio(aws.median - startup.median, cold.median), '']);
    rows.push([`warm, readAheadPages ${ra}`, formatMs(warm.median), range(warm), 'the cold read', formatMs(cold.median), range(cold), formatRate(args.sizeMib, warm.median, 'MiB'), formatRatio(cold.median, warm.median), '≥ 10x']);
  }
  const link = args.linkMbit > 0 ? `${args.linkMbit} Mbit/s shared link` : 'no bandwidth cap';
  console.log(`\n${machineLine()}; ${about.awsVersion}; ${about.server} behind a DelayProxy (${args.delayMs} ms each way, ${link}, ${args.windowKib} KiB window per connection); ${args.runs} runs`);
  const set = Object.entries(args.set).map(([k, v]) => `${k}=${v}, `).join('');
  console.log(`object: ${args.sizeMib} MiB; dora: a fresh \`dora start\` process and data directory per run, defaults but ${set}cache.readAheadPages; read = curl GET /v1/read of the whole object\n`);
  console.log(table([header, ...rows]));
  console.log(`\naws CLI startup (\`aws --version\`): median ${formatMs(startup.median)}, ${range(startup)}; the proxy saw ${about.proxyConnections} connections`);
}

runBench(main);
