// Issue 2's benchmark: listing a large prefix and reading a large object through the s3://
// backend, each against the aws CLI doing the same on the same moto server, side by side.
//
//   node dist/bench/ufs-s3-bench.js [--runs N] [--objects N] [--size-mib N]
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { createDefaultUfsRegistry, type UfsRegistry } from '../src/ufs/ufs-registry.js';
import { formatMs, formatRate, formatRatio, summarize, table, timeIt, type Summary } from './bench-stats.js';

const MiB = 1024 * 1024;
const BUCKET = 'dora-bench';
const LIST_PREFIX = 'many';
const BIG_KEY = 'big.bin';
const SEED_CONCURRENCY = 32;

interface BenchArgs {
  readonly runs: number;
  readonly objects: number;
  readonly sizeMib: number;
}

/** What a timed operation produced, checked after each run. */
interface Outcome {
  /** Entries listed or bytes read. */
  readonly count: number;
}

type Side = 'dora' | 'aws';

interface Bench {
  readonly server: S3ServerHandle;
  readonly registry: UfsRegistry;
  readonly awsEnv: NodeJS.ProcessEnv;
}

function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      objects: { type: 'string', default: '10000' },
      'size-mib': { type: 'string', default: '256' },
    },
  });
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Cannot run the benchmark with --${name} ${JSON.stringify(text)}: not a positive integer`);
    return n;
  };
  return { runs: positive('runs', values.runs), objects: positive('objects', values.objects), sizeMib: positive('size-mib', values['size-mib']) };
}

/**
 * Runs a command to completion and counts its stdout (bytes, and newlines when asked) without
 * keeping it. Rejects on a non-zero exit with the tail of stderr; `code` is ENOENT when the
 * command is not installed.
 */
function runCounting(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; countLines?: boolean }): Promise<{ bytes: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (options.countLines !== true) return;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve({ bytes, lines });
      else reject(new Error(`Cannot run "${[command, ...args].join(' ')}": exited with ${code ?? signal}:\n${stderr}`));
    });
  });
}

/** The aws CLI's environment: the server's key, no user config or credentials files. */
async function awsEnvironment(server: S3ServerHandle, dir: string): Promise<NodeJS.ProcessEnv> {
  const config = join(dir, 'aws-config');
  const credentials = join(dir, 'aws-credentials');
  await writeFile(config, '');
  await writeFile(credentials, '');
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return {
    ...env,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    AWS_DEFAULT_REGION: server.region,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Writes the objects to list and the object to read; returns the big object's ETag. */
async function seed(bench: Bench, args: BenchArgs): Promise<string> {
  const ufs = await bench.registry.create(`s3://${BUCKET}/`, s3Options(bench.server));
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < args.objects; i = next++) {
        await ufs.write(`${LIST_PREFIX}/object-${String(i).padStart(6, '0')}`, Buffer.from(`object ${i}\n`));
      }
    };
    await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
    // A stream of unknown length, so the write goes through the backend's multipart upload.
    const size = args.sizeMib * MiB;
    const status = await ufs.write(BIG_KEY, randomChunks(size, MiB));
    if (status.size !== size) throw new Error(`Cannot seed "${BIG_KEY}": wrote ${status.size} bytes, expected ${size}`);
    return status.etag ?? '';
  } finally {
    await ufs.close();
  }
}

async function* randomChunks(total: number, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let left = total; left > 0; left -= chunkSize) yield randomFillSync(Buffer.allocUnsafe(Math.min(chunkSize, left)));
}

/** Each side of each operation opens a fresh client, so neither reuses warm connections. */
async function doraList(bench: Bench): Promise<Outcome> {
  const ufs = await bench.registry.create(`s3://${BUCKET}/`, s3Options(bench.server));
  try {
    let count = 0;
    for await (const _ of ufs.list(LIST_PREFIX, { recursive: true })) count++;
    return { count };
  } finally {
    await ufs.close();
  }
}

async function doraRead(bench: Bench): Promise<Outcome> {
  const ufs = await bench.registry.create(`s3://${BUCKET}/`, s3Options(bench.server));
  try {
    const { stream } = await ufs.read(BIG_KEY);
    let count = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) count += chunk.length;
    return { count };
  } finally {
    await ufs.close();
  }
}

async function awsList(bench: Bench): Promise<Outcome> {
  const args = ['s3', 'ls', `s3://${BUCKET}/${LIST_PREFIX}/`, '--recursive', '--endpoint-url', bench.server.endpoint];
  const { lines } = await runCounting('aws', args, { env: bench.awsEnv, countLines: true });
  return { count: lines };
}

async function awsRead(bench: Bench): Promise<Outcome> {
  const args = ['s3', 'cp', `s3://${BUCKET}/${BIG_KEY}`, '-', '--endpoint-url', bench.server.endpoint];
  const { bytes } = await runCounting('aws', args, { env: bench.awsEnv });
  return { count: bytes };
}

/** Times both sides of one operation, in the given order, checking each produced `expected`. */
async function timePair(
  name: string,
  expected: number,
  order: readonly Side[],
  sides: Record<Side, () => Promise<Outcome>>,
): Promise<Record<Side, number>> {
  const ms: Record<Side, number> = { dora: 0, aws: 0 };
  for (const side of order) {
    const { ms: took, value } = await timeIt(sides[side]);
    if (value.count !== expected) throw new Error(`Cannot trust the ${name} run of ${side}: got ${value.count}, expected ${expected}`);
    ms[side] = took;
  }
  return ms;
}

interface OperationResult {
  readonly dora: Summary;
  readonly aws: Summary;
  readonly doraMs: number[];
  readonly awsMs: number[];
}

function report(args: BenchArgs, startup: Summary, list: OperationResult, read: OperationResult, awsVersion: string): void {
  const sizeBytes = args.sizeMib * MiB;
  const range = (s: Summary): string => `${formatMs(s.min)} – ${formatMs(s.max)}`;
  const row = (name: string, op: OperationResult, rate: (ms: number) => string): string[] => [
    name,
    formatMs(op.dora.median),
    range(op.dora),
    formatMs(op.aws.median),
    range(op.aws),
    formatRatio(op.aws.median, op.dora.median),
    formatRatio(Math.max(0, op.aws.median - startup.median), op.dora.median),
    rate(op.dora.median),
    rate(op.aws.median),
  ];
  console.log(`\n${awsVersion}`);
  console.log(`moto_server, ${args.runs} runs, medians; ratio = aws median / dora median (> 1: dora faster)\n`);
  console.log(table([
    ['operation', 'dora median', 'dora min – max', 'aws median', 'aws min – max', 'ratio', 'ratio, aws startup subtracted', 'dora rate', 'aws rate'],
    row(`list ${args.objects.toLocaleString('en-US')} objects (recursive)`, list, (ms) => formatRate(args.objects, ms, 'objects')),
    row(`read ${args.sizeMib} MiB object`, read, (ms) => formatRate(args.sizeMib, ms, 'MiB')),
  ]));
  console.log(`\naws CLI startup (\`aws --version\`): median ${formatMs(startup.median)}, ${range(startup)}`);
  const json = {
    bench: 'ufs-s3',
    runs: args.runs,
    objects: args.objects,
    sizeBytes,
    awsStartupMs: startup,
    list: { ...list, ratio: list.aws.median / list.dora.median },
    read: { ...read, ratio: read.aws.median / read.dora.median },
  };
  // Two decimals (0.01 ms): more digits would only be noise.
  console.log(JSON.stringify(json, (_key, value: unknown) => (typeof value === 'number' ? Math.round(value * 100) / 100 : value)));
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const awsVersion = await runVersion();
  const dir = await mkdtemp(join(tmpdir(), 'dora-bench-'));
  const server = await startMotoServer();
  const stop = async (): Promise<void> => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping moto_server`);
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const bench: Bench = { server, registry: createDefaultUfsRegistry(), awsEnv: await awsEnvironment(server, dir) };
    await createBucket(server, BUCKET);
    const seeded = await timeIt(() => seed(bench, args));
    console.error(`seeded ${args.objects} objects and a ${args.sizeMib} MiB object (ETag ${seeded.value}) in ${formatMs(seeded.ms)} at ${server.endpoint}`);

    const startupMs: number[] = [];
    for (let i = 0; i < args.runs; i++) {
      startupMs.push((await timeIt(() => runCounting('aws', ['--version'], { env: bench.awsEnv }))).ms);
    }
    const list = { doraMs: [] as number[], awsMs: [] as number[] };
    const read = { doraMs: [] as number[], awsMs: [] as number[] };
    for (let run = 0; run < args.runs; run++) {
      const order: Side[] = run % 2 === 0 ? ['dora', 'aws'] : ['aws', 'dora'];
      const l = await timePair('list', args.objects, order, { dora: () => doraList(bench), aws: () => awsList(bench) });
      const r = await timePair('read', args.sizeMib * MiB, order, { dora: () => doraRead(bench), aws: () => awsRead(bench) });
      list.doraMs.push(l.dora);
      list.awsMs.push(l.aws);
      read.doraMs.push(r.dora);
      read.awsMs.push(r.aws);
      console.error(`run ${run + 1}/${args.runs} (${order.join(' first, then ')}): list dora ${formatMs(l.dora)} aws ${formatMs(l.aws)}; read dora ${formatMs(r.dora)} aws ${formatMs(r.aws)}`);
    }
    const summary = (op: { doraMs: number[]; awsMs: number[] }): OperationResult => ({ ...op, dora: summarize(op.doraMs), aws: summarize(op.awsMs) });
    report(args, summarize(startupMs), summary(list), summary(read), awsVersion);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await stop();
  }
}

/** `aws --version`'s text; exits with a clear message when the CLI is missing. */
async function runVersion(): Promise<string> {
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('aws', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`Cannot run "aws --version": exited with ${code}: ${output.join('')}`))));
  }).catch((error: unknown) => {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    console.error(missing ? 'Cannot run the benchmark: the aws CLI ("aws") is not on PATH; install it (pip install awscli) and retry.' : String(error));
    process.exit(2);
  });
  return output.join('').trim();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
