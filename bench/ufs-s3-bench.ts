// Issue 2's benchmark: listing a large prefix and reading a large object through the s3://
// backend, each against the aws CLI doing the same on the same moto server, side by side.
//
//   node dist/bench/ufs-s3-bench.js [--runs N] [--objects N] [--size-mib N]
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { createDefaultUfsRegistry, type UfsRegistry } from '../src/ufs/ufs-registry.js';
import type { UnderFileSystem } from '../src/ufs/under-file-system.js';
import { formatMs, formatRate, formatRatio, summarize, table, timeIt, type Summary } from './bench-stats.js';
import { awsEnvironment } from './bench-tools.js';

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

interface Counted {
  readonly bytes: number;
  /** Newlines, when asked to count them. */
  readonly lines: number;
  /** The first KiB of output. */
  readonly head: string;
}

const HEAD_BYTES = 1024;

/**
 * Runs a command to completion and counts its stdout without keeping more than its head.
 * Rejects on a non-zero exit with the tail of stderr, and with `code` ENOENT when the command
 * is not installed.
 */
function runCounting(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; countLines?: boolean }): Promise<Counted> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let lines = 0;
    let head = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (bytes < HEAD_BYTES) head += chunk.subarray(0, HEAD_BYTES - bytes).toString('utf8');
      bytes += chunk.length;
      if (options.countLines !== true) return;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve({ bytes, lines, head });
      else reject(new Error(`Cannot run "${[command, ...args].join(' ')}": exited with ${code ?? signal}:\n${stderr}`));
    });
  });
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

/**
 * One way of doing an operation, timed end to end. Resolves to what it produced (entries
 * listed, bytes read), which must match the expected count for the time to count.
 */
interface Contender {
  readonly name: string;
  run(): Promise<number>;
}

interface Operation {
  readonly key: string;
  readonly title: string;
  readonly expected: number;
  /** For rates: how much `expected` is, in `unit`s. */
  readonly amount: number;
  readonly unit: string;
  readonly dora: Contender;
  /** The aws CLI doing the same; the first is the headline comparison. */
  readonly baselines: readonly Contender[];
}

/** Each side of each operation opens a fresh client, so neither reuses warm connections. */
function operations(bench: Bench, args: BenchArgs): Operation[] {
  const { endpoint } = bench.server;
  const open = (): Promise<UnderFileSystem> => bench.registry.create(`s3://${BUCKET}/`, s3Options(bench.server));
  const aws = async (awsArgs: string[], countLines = false): Promise<Counted> => runCounting('aws', [...awsArgs, '--endpoint-url', endpoint], { env: bench.awsEnv, countLines });
  return [
    {
      key: 'list',
      title: `list ${args.objects.toLocaleString('en-US')} objects (recursive)`,
      expected: args.objects,
      amount: args.objects,
      unit: 'objects',
      dora: {
        name: `ufs.list('${LIST_PREFIX}', { recursive: true })`,
        run: () => using(open, async (ufs) => {
          let count = 0;
          for await (const _ of ufs.list(LIST_PREFIX, { recursive: true })) count++;
          return count;
        }),
      },
      baselines: [{ name: `aws s3 ls s3://${BUCKET}/${LIST_PREFIX}/ --recursive`, run: async () => (await aws(['s3', 'ls', `s3://${BUCKET}/${LIST_PREFIX}/`, '--recursive'], true)).lines }],
    },
    {
      key: 'read',
      title: `read ${args.sizeMib} MiB object`,
      expected: args.sizeMib * MiB,
      amount: args.sizeMib,
      unit: 'MiB',
      dora: {
        name: `ufs.read('${BIG_KEY}')`,
        run: () => using(open, async (ufs) => {
          const { stream } = await ufs.read(BIG_KEY);
          let count = 0;
          for await (const chunk of stream as AsyncIterable<Buffer>) count += chunk.length;
          return count;
        }),
      },
      baselines: [
        { name: `aws s3 cp s3://${BUCKET}/${BIG_KEY} -`, run: async () => (await aws(['s3', 'cp', `s3://${BUCKET}/${BIG_KEY}`, '-'])).bytes },
        // One plain GET, as dora does; the body goes to /dev/null and stdout carries its length.
        {
          name: `aws s3api get-object ... /dev/null`,
          run: async () => Number((await aws(['s3api', 'get-object', '--bucket', BUCKET, '--key', BIG_KEY, '/dev/null', '--query', 'ContentLength', '--output', 'text'])).head.trim()),
        },
      ],
    },
  ];
}

async function using<T>(open: () => Promise<UnderFileSystem>, fn: (ufs: UnderFileSystem) => Promise<T>): Promise<T> {
  const ufs = await open();
  try {
    return await fn(ufs);
  } finally {
    await ufs.close();
  }
}

/** Milliseconds per contender name, one entry per run. */
type Samples = Map<string, number[]>;

/** Runs every contender of `op` once, in `order`, adding each time to `samples`. */
async function runOnce(op: Operation, order: readonly Contender[], samples: Samples): Promise<string> {
  const line: string[] = [];
  for (const contender of order) {
    const { ms, value } = await timeIt(() => contender.run());
    if (value !== op.expected) throw new Error(`Cannot trust "${contender.name}" for ${op.key}: it produced ${value}, expected ${op.expected}`);
    samples.set(contender.name, [...(samples.get(contender.name) ?? []), ms]);
    line.push(`${contender === op.dora ? 'dora' : contender.name.split(' ').slice(0, 3).join(' ')} ${formatMs(ms)}`);
  }
  return `${op.key}: ${line.join(', ')}`;
}

function report(args: BenchArgs, awsVersion: string, startup: Summary, results: ReadonlyMap<Operation, Samples>): void {
  const range = (s: Summary): string => `${formatMs(s.min)} – ${formatMs(s.max)}`;
  const rows: string[][] = [['operation', 'aws command', 'dora median', 'dora min – max', 'aws median', 'aws min – max', 'ratio', 'ratio, aws startup subtracted', 'dora rate', 'aws rate']];
  const json: Record<string, unknown> = {};
  for (const [op, samples] of results) {
    const stats = (c: Contender): Summary => summarize(samples.get(c.name) ?? []);
    const dora = stats(op.dora);
    const entry: Record<string, unknown> = { [op.dora.name]: { ...dora, samples: samples.get(op.dora.name) } };
    for (const baseline of op.baselines) {
      const aws = stats(baseline);
      rows.push([
        op.title,
        `\`${baseline.name}\``,
        formatMs(dora.median),
        range(dora),
        formatMs(aws.median),
        range(aws),
        formatRatio(aws.median, dora.median),
        formatRatio(Math.max(0, aws.median - startup.median), dora.median),
        formatRate(op.amount, dora.median, op.unit),
        formatRate(op.amount, aws.median, op.unit),
      ]);
      entry[baseline.name] = { ...aws, samples: samples.get(baseline.name), ratio: aws.median / dora.median };
    }
    json[op.key] = entry;
  }
  console.log(`\n${awsVersion}; moto_server; ${args.runs} runs; ratio = aws median / dora median (> 1: dora faster)\n`);
  console.log(table(rows));
  console.log(`\naws CLI startup (\`aws --version\`): median ${formatMs(startup.median)}, ${range(startup)}`);
  const line = { bench: 'ufs-s3', runs: args.runs, objects: args.objects, sizeBytes: args.sizeMib * MiB, awsStartupMs: startup, ...json };
  // Two decimals (0.01 ms): more digits would only be noise.
  console.log(JSON.stringify(line, (_key, value: unknown) => (typeof value === 'number' ? Math.round(value * 100) / 100 : value)));
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const awsVersion = await awsVersionOrExit();
  const dir = await mkdtemp(join(tmpdir(), 'dora-bench-'));
  const server = await startMotoServer();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= server.stop().then(() => rm(dir, { recursive: true, force: true })));
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
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
    const ops = operations(bench, args);
    const results = new Map<Operation, Samples>(ops.map((op) => [op, new Map()]));
    for (let run = 0; run < args.runs; run++) {
      // Alternate the order, so no side always goes first (or last) against the same server.
      const progress: string[] = [];
      for (const op of ops) {
        const order = [op.dora, ...op.baselines];
        if (run % 2 === 1) order.reverse();
        progress.push(await runOnce(op, order, results.get(op) ?? new Map()));
      }
      console.error(`run ${run + 1}/${args.runs}: ${progress.join('; ')}`);
    }
    report(args, awsVersion, summarize(startupMs), results);
  } catch (error) {
    if (!interrupted) throw error; // else the failure is the server going away under us
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await stop();
  }
}

/** `aws --version`'s text; exits with a clear message when the CLI is missing. */
async function awsVersionOrExit(): Promise<string> {
  try {
    return (await runCounting('aws', ['--version'], { env: process.env })).head.trim();
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    console.error(missing ? 'Cannot run the benchmark: the aws CLI ("aws") is not on PATH; install it (pip install awscli) and retry.' : String(error));
    return process.exit(2);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
