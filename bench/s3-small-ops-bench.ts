// Issue 4's small-object benchmark: GetObject and HeadObject of 4 KiB objects already in the
// worker's cache, through dora's S3 API (anonymous, loopback), against nginx serving the same
// files, side by side. The client, a separate process with 32 keep-alive connections, asks for
// random keys among the objects: wrk for GET, and for HEAD (which wrk 4.1 cannot complete when
// the answer has a Content-Length) a small undici load generator, also run for GET so the two
// clients can be compared. Every answer's status and length is checked, and the timed GETs must
// all be cache hits. dora runs as `dora start` in a process of its own.
//
//   node dist/bench/s3-small-ops-bench.js [--runs N] [--seconds N] [--objects N] [--size BYTES]
//        [--connections N] [--threads N] [--ops GET:wrk,HEAD:undici,GET:undici] [--nginx-workers N] [--cpu-prof DIR]
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256 } from '../src/testing/assertions.js';
import { formatMs, formatRatio, summarize, table, timeIt } from './bench-stats.js';
import { machineLine, positiveInt, runBench, type Cleanup } from './bench-tools.js';
import { startDoraWorkerProcess } from './dora-worker-process.js';
import { startNginx } from './nginx-server.js';
import { cacheTotals, checkAllHits, hashedGet } from './s3-bench-tools.js';
import { runUndiciLoad } from './undici-load.js';
import { wrkVersion } from './wrk-random-reads.js';
import { runSmallObjectWrk, smallObjectPath, writeSmallObjectScript, type SmallObjectMethod, type SmallObjectResult, type SmallObjectTarget } from './wrk-small-objects.js';

const BUCKET = 'bench';
const PREFIX = `/${BUCKET}/obj-`;
const WARM_UP_SECONDS = 2;
const TARGET_OPS = 10_000;
const FILL_CONCURRENCY = 16;

interface Args {
  readonly runs: number;
  readonly seconds: number;
  readonly objects: number;
  readonly size: number;
  readonly connections: number;
  readonly threads: number;
  readonly ops: Op[];
  readonly nginxWorkers: number;
  readonly cpuProf: string | undefined;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      objects: { type: 'string', default: '1000' },
      size: { type: 'string', default: '4096' },
      connections: { type: 'string', default: '32' },
      threads: { type: 'string', default: '2' },
      ops: { type: 'string', default: 'GET:wrk,HEAD:undici,GET:undici' },
      'nginx-workers': { type: 'string', default: '1' },
      'cpu-prof': { type: 'string' },
    },
  });
  const ops = values.ops.split(',').map((text): Op => {
    const [method = '', client = ''] = text.trim().split(':');
    const op = { method: method.toUpperCase(), client: client.toLowerCase() };
    if ((op.method !== 'GET' && op.method !== 'HEAD') || (op.client !== 'wrk' && op.client !== 'undici') || (op.method === 'HEAD' && op.client === 'wrk')) {
      throw new Error(`Cannot run the benchmark with --ops ${JSON.stringify(values.ops)}: each must be GET:wrk, GET:undici or HEAD:undici (wrk 4.1 never completes a HEAD)`);
    }
    return op as Op;
  });
  return {
    runs: positiveInt('runs', values.runs),
    seconds: positiveInt('seconds', values.seconds),
    objects: positiveInt('objects', values.objects),
    size: positiveInt('size', values.size),
    connections: positiveInt('connections', values.connections),
    threads: positiveInt('threads', values.threads),
    ops,
    nginxWorkers: positiveInt('nginx-workers', values['nginx-workers']),
    cpuProf: values['cpu-prof'],
  };
}

/** GETs every object once from `baseUrl`, FILL_CONCURRENCY at a time, checking each against its sha256. */
async function readEach(baseUrl: string, hashes: readonly string[], size: number): Promise<void> {
  let next = 0;
  const reader = async (): Promise<void> => {
    for (let i = next++; i < hashes.length; i = next++) {
      const url = `${baseUrl}${smallObjectPath(PREFIX, i)}`;
      const got = await hashedGet(url);
      if (got.status !== 200 || got.bytes !== size || got.sha256 !== hashes[i]) throw new Error(`Cannot trust GET ${url}: status ${got.status}, ${got.bytes} of ${size} bytes, sha256 ${got.sha256}`);
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, reader));
}

type Side = 'dora' | 'nginx';

interface Op {
  readonly method: SmallObjectMethod;
  readonly client: 'wrk' | 'undici';
}

interface Row extends Op {
  readonly dora: SmallObjectResult[];
  readonly nginx: SmallObjectResult[];
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const wrk = await wrkVersion();
  const dir = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-s3-small-bench-')), (d) => rm(d, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  const root = join(dataDir, 'root'); // the worker's root mount: bucket "bench" is <root>/bench
  await mkdir(join(root, BUCKET), { recursive: true });
  const hashes: string[] = [];
  for (let i = 0; i < args.objects; i++) {
    const bytes = randomFillSync(Buffer.alloc(args.size));
    hashes.push(sha256(bytes));
    await writeFile(join(root, smallObjectPath(PREFIX, i)), bytes);
  }
  const nginx = cleanup.add(await startNginx(root, { workers: args.nginxWorkers }), (n) => n.stop());
  const worker = cleanup.add(
    await startDoraWorkerProcess({
      dataDir,
      flags: { 'cache.disk.capacity': '0' }, // the memory tier only (512 MiB by default)
      nodeArgs: args.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args.cpuProf],
    }),
    (w) => w.stop(),
  );
  // Untimed: every object read once through each side and checked; the worker caches them.
  const filled = await timeIt(async () => {
    await readEach(worker.s3Url, hashes, args.size);
    await readEach(nginx.url, hashes, args.size);
  });
  const cached = await cacheTotals(worker.workerUrl);
  if (cached.pages < args.objects) throw new Error(`Cannot cache the objects: ${cached.pages} of ${args.objects} pages cached`);
  console.error(`${args.objects} objects of ${args.size} bytes written, read and checked through both sides in ${formatMs(filled.ms)}; ${cached.pages} pages cached`);

  const targets = new Map<string, { target: SmallObjectTarget; script: string }>();
  for (const method of new Set(args.ops.map((op) => op.method))) {
    for (const [side, baseUrl] of [['dora', worker.s3Url], ['nginx', nginx.url]] as const) {
      const target: SmallObjectTarget = { baseUrl, method, prefix: PREFIX, count: args.objects, size: args.size };
      targets.set(`${side} ${method}`, { target, script: await writeSmallObjectScript(dir, `${side}-${method}`, target) });
    }
  }
  const run = async (side: Side, op: Op, seconds: number): Promise<SmallObjectResult> => {
    const { target, script } = targets.get(`${side} ${op.method}`)!;
    const result =
      op.client === 'wrk'
        ? await runSmallObjectWrk(target, script, { connections: args.connections, threads: args.threads, seconds })
        : await runUndiciLoad(target, { connections: args.connections, seconds });
    if (result.requests === 0 || result.bad > 0 || result.statusErrors > 0 || result.socketErrors > 0) {
      throw new Error(`Cannot trust ${side} ${op.method} (${op.client}): ${result.requests} requests, ${result.bad} with the wrong status or length, ${result.statusErrors} non-2xx, ${result.socketErrors} socket errors`);
    }
    return result;
  };
  // Warm-up, untimed: the JIT on dora's side.
  for (const op of args.ops) for (const side of ['dora', 'nginx'] as const) await run(side, op, WARM_UP_SECONDS);

  const before = await cacheTotals(worker.workerUrl);
  const rows: Row[] = args.ops.map((op) => ({ ...op, dora: [], nginx: [] }));
  for (let r = 0; r < args.runs; r++) {
    const line: string[] = [];
    for (const row of rows) {
      const sides: Side[] = r % 2 === 0 ? ['dora', 'nginx'] : ['nginx', 'dora']; // neither side always goes first
      for (const side of sides) {
        const result = await run(side, row, args.seconds);
        row[side].push(result);
        line.push(`${side} ${row.method}:${row.client} ${Math.round(result.opsPerSecond)}/s`);
      }
    }
    console.error(`run ${r + 1}/${args.runs}: ${line.join(', ')}`);
  }
  const after = await cacheTotals(worker.workerUrl);
  const gets = rows.filter((row) => row.method === 'GET').flatMap((row) => row.dora).reduce((sum, result) => sum + result.requests, 0);
  // wrk counts the requests it completed; a few more may have been answered as it stopped.
  checkAllHits('the GET figures', before, after, gets * args.size, { atLeast: true });
  console.error(`every timed GET through dora was a cache hit (${after.hits - before.hits} page hits, 0 misses)`);
  report(args, `${wrk.split(' [')[0]}; ${nginx.version}`, rows);
}

function report(args: Args, versions: string, rows: readonly Row[]): void {
  const ops = (n: number): string => Math.round(n).toLocaleString('en-US');
  const header = ['operation', 'client', 'dora ops/s (min–max)', 'nginx ops/s (min–max)', 'ratio (dora / nginx)', `dora ≥ ${ops(TARGET_OPS)} ops/s`];
  const body = rows.map((row) => {
    const dora = summarize(row.dora.map((r) => r.opsPerSecond));
    const nginx = summarize(row.nginx.map((r) => r.opsPerSecond));
    const what = row.method === 'GET' ? `GET ${args.size} B` : `HEAD (${args.size} B objects)`;
    return [what, row.client === 'wrk' ? `wrk, ${Math.min(args.threads, args.connections)} threads` : 'undici (node)', `${ops(dora.median)} (${ops(dora.min)}–${ops(dora.max)})`, `${ops(nginx.median)} (${ops(nginx.min)}–${ops(nginx.max)})`, formatRatio(dora.median, nginx.median), dora.median >= TARGET_OPS ? 'yes' : 'NO'];
  });
  console.log(`\n${machineLine()}; ${versions} (${args.nginxWorkers} worker); ${args.runs} runs of ${args.seconds} s each; medians of the runs`);
  console.log(`each client: a separate process with ${args.connections} keep-alive connections, one request in flight on each, random keys among ${args.objects} objects of ${args.size} bytes; dora: its S3 API (anonymous, loopback), objects in the memory tier; nginx: the same files\n`);
  console.log(table([header, ...body]));
  const json = rows.map((row) => ({ method: row.method, client: row.client, dora: row.dora, nginx: row.nginx }));
  console.log(JSON.stringify({ bench: 's3-small-ops', runs: args.runs, seconds: args.seconds, connections: args.connections, threads: args.threads, objects: args.objects, size: args.size, results: json }, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
}

runBench(main);
