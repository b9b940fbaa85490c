// Issue 4's PUT benchmark: uploading a large object through dora's S3 API to an S3 store that
// dora mounts (an s3:// bucket on moto_server), against uploading the same bytes straight to that
// store, side by side, with the same client and settings on both sides: the AWS SDK v3 (dora's
// own S3Api wrapper, in this process) sending either one PutObject or a multipart upload of
// --part-mib parts, --queue at a time. dora runs as `dora start` in a process of its own, with its
// default write type (CACHE_THROUGH: the bytes are spooled to local disk as they stream to the
// store, and cached afterwards). After each upload the stored object's size and sha256 are read
// back from moto and the ETag the client got is checked, all untimed.
//
//   node dist/bench/s3-put-bench.js [--runs N] [--size-mib N] [--modes put,multipart] [--part-mib N]
//        [--queue N] [--write-type CACHE_THROUGH|THROUGH] [--set key=value]... [--cpu-prof DIR]
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { S3Api } from '../src/ufs/s3/s3-api.js';
import { formatMs, formatRate, formatRatio, summarize, table, timeIt, type Summary } from './bench-stats.js';
import { commandVersion, machineLine, positiveInt, runBench, writeRandomFile, type Cleanup } from './bench-tools.js';
import { startDoraWorkerProcess, type DoraWorkerProcess } from './dora-worker-process.js';
import { fileDigests, hashStream, waitEmpty, type Digests } from './s3-bench-tools.js';

const MiB = 1024 * 1024;
/** The moto bucket, and the dora bucket (top-level directory) mounted on it: the same name on both sides. */
const BUCKET = 'dora-bench';
const TARGET = 0.8;
const MODES = ['put', 'multipart'] as const;
type Mode = (typeof MODES)[number];
type Side = 'dora' | 'direct';

interface Args {
  readonly runs: number;
  readonly sizeMib: number;
  readonly modes: Mode[];
  readonly partMib: number;
  readonly queue: number;
  readonly writeType: 'CACHE_THROUGH' | 'THROUGH';
  /** More configuration for the worker, e.g. `ufs.s3.partSize=64MiB`. */
  readonly set: Record<string, string>;
  readonly cpuProf: string | undefined;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '3' },
      'size-mib': { type: 'string', default: '1024' },
      modes: { type: 'string', default: 'put,multipart' },
      'part-mib': { type: 'string', default: '16' },
      queue: { type: 'string', default: '4' },
      'write-type': { type: 'string', default: 'CACHE_THROUGH' },
      set: { type: 'string', multiple: true, default: [] },
      'cpu-prof': { type: 'string' },
    },
  });
  const modes = values.modes.split(',').map((m) => m.trim());
  for (const m of modes) if (!(MODES as readonly string[]).includes(m)) throw new Error(`Cannot run the benchmark with --modes ${JSON.stringify(values.modes)}: each must be put or multipart`);
  const writeType = values['write-type'].toUpperCase();
  if (writeType !== 'CACHE_THROUGH' && writeType !== 'THROUGH') throw new Error(`Cannot run the benchmark with --write-type ${JSON.stringify(values['write-type'])}: CACHE_THROUGH or THROUGH`);
  const partMib = positiveInt('part-mib', values['part-mib']);
  if (partMib < 5) throw new Error(`Cannot run the benchmark with --part-mib ${partMib}: S3 parts are at least 5 MiB`);
  return {
    runs: positiveInt('runs', values.runs),
    sizeMib: positiveInt('size-mib', values['size-mib']),
    modes: modes as Mode[],
    partMib,
    queue: positiveInt('queue', values.queue),
    writeType,
    set: Object.fromEntries(
      values.set.map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 1) throw new Error(`Cannot run the benchmark with --set ${JSON.stringify(pair)}: expected key=value`);
        return [pair.slice(0, eq), pair.slice(eq + 1)];
      }),
    ),
    cpuProf: values['cpu-prof'],
  };
}

interface Bench {
  readonly args: Args;
  readonly file: string;
  readonly digests: Digests;
  readonly moto: S3ServerHandle;
  readonly dora: DoraWorkerProcess;
  readonly dataDir: string;
  /** moto, for deleting before and checking after each upload (never timed). */
  readonly checker: S3Api;
}

/** A fresh client on each side for each upload, with the same settings: the server's key, path-style, no SDK retries. */
function client(bench: Bench, side: Side): S3Api {
  const { moto } = bench;
  return new S3Api({
    region: moto.region,
    endpoint: side === 'dora' ? bench.dora.s3Url : moto.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: moto.accessKeyId, secretAccessKey: moto.secretAccessKey }, // dora, with no keys configured, serves loopback anonymously
    maxSockets: 16,
  });
}

const keyOf = (side: Side, mode: Mode): string => `${side}-${mode}.bin`;

/** One timed upload of the file; returns its time after checking what was stored. */
async function upload(bench: Bench, side: Side, mode: Mode): Promise<number> {
  const { args, digests } = bench;
  const key = keyOf(side, mode);
  await bench.checker.delete(BUCKET, key); // so the checks below see this upload's object
  const api = client(bench, side);
  let etag: string | undefined;
  let ms: number;
  try {
    const body = createReadStream(bench.file, { highWaterMark: MiB });
    ({ ms, value: etag } = await timeIt(() =>
      mode === 'put'
        ? api.put(BUCKET, key, body, { size: digests.bytes })
        : api.upload(BUCKET, key, body, { partSize: args.partMib * MiB, queueSize: args.queue }),
    ));
  } finally {
    api.destroy();
  }
  const expectedEtag = mode === 'put' ? digests.md5 : digests.multipartEtag;
  if (etag !== expectedEtag) throw new Error(`Cannot trust the ${mode} through ${side}: ETag ${etag ?? '(none)'}, expected ${expectedEtag ?? '?'}`);
  const stored = await bench.checker.head(BUCKET, key);
  const got = await hashStream((await bench.checker.get(BUCKET, key, {})).body);
  if (stored.size !== digests.bytes || got.bytes !== digests.bytes || got.sha256 !== digests.sha256) {
    throw new Error(`Cannot trust the ${mode} through ${side}: moto holds ${stored.size} bytes (a GET gave ${got.bytes} bytes, sha256 ${got.sha256}); expected ${digests.bytes} bytes, sha256 ${digests.sha256}`);
  }
  if (side === 'dora') {
    // The work a write leaves behind (the spool cached page by page, a staged upload's parts removed) ends before the next upload.
    await waitEmpty(join(bench.dataDir, 'spool'));
    await waitEmpty(join(bench.dataDir, 'multipart'));
  }
  return ms;
}

interface Row {
  readonly mode: Mode;
  readonly dora: number[];
  readonly direct: number[];
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true'; // the SDK's notice about Node 20, once per client
  const size = args.sizeMib * MiB;
  const motoVersion = await commandVersion('python3', ['-c', 'import moto; print("moto " + moto.__version__)'], "pip install 'moto[server]'");
  const dir = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-s3-put-bench-')), (d) => rm(d, { recursive: true, force: true }));
  const file = join(dir, 'source.bin');
  const written = await timeIt(() => writeRandomFile(file, size));
  const digests = await fileDigests(file, { partSize: args.partMib * MiB });
  console.error(`wrote ${args.sizeMib} MiB of random bytes in ${formatMs(written.ms)} (sha256 ${digests.sha256.slice(0, 16)}…)`);
  const moto = cleanup.add(await startMotoServer(), (m) => m.stop());
  await createBucket(moto, BUCKET);
  const dataDir = join(dir, 'data');
  const dora = cleanup.add(
    await startDoraWorkerProcess({
      dataDir,
      flags: args.set,
      mounts: [{ path: `/${BUCKET}`, uri: `s3://${BUCKET}/`, options: s3Options(moto), writeType: args.writeType }],
      nodeArgs: args.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args.cpuProf],
    }),
    (d) => d.stop(),
  );
  const checker = cleanup.add(new S3Api({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: moto.accessKeyId, secretAccessKey: moto.secretAccessKey }, maxSockets: 4 }), (c) => Promise.resolve(c.destroy()));
  const bench: Bench = { args, file, digests, moto, dora, dataDir, checker };

  const rows: Row[] = args.modes.map((mode) => ({ mode, dora: [], direct: [] }));
  for (let run = 0; run < args.runs; run++) {
    const line: string[] = [];
    for (const row of rows) {
      const sides: Side[] = run % 2 === 0 ? ['dora', 'direct'] : ['direct', 'dora']; // neither side always goes first
      for (const side of sides) {
        const ms = await upload(bench, side, row.mode);
        row[side].push(ms);
        line.push(`${side} ${row.mode} ${formatMs(ms)}`);
      }
    }
    console.error(`run ${run + 1}/${args.runs}: ${line.join(', ')}`);
  }
  report(args, motoVersion, rows);
}

function report(args: Args, motoVersion: string, rows: readonly Row[]): void {
  const range = (s: Summary): string => `${formatMs(s.min)} – ${formatMs(s.max)}`;
  const header = ['upload', 'dora median', 'dora min – max', 'direct median', 'direct min – max', 'dora rate', 'direct rate', 'ratio (direct / dora)', `≥ ${TARGET.toFixed(2)}x`];
  const body = rows.map((row) => {
    const dora = summarize(row.dora);
    const direct = summarize(row.direct);
    const what = row.mode === 'put' ? `one PutObject of ${args.sizeMib} MiB` : `multipart, ${args.partMib} MiB parts, ${args.queue} at a time`;
    return [what, formatMs(dora.median), range(dora), formatMs(direct.median), range(direct), formatRate(args.sizeMib, dora.median, 'MiB'), formatRate(args.sizeMib, direct.median, 'MiB'), formatRatio(direct.median, dora.median), direct.median / dora.median >= TARGET ? 'yes' : 'NO'];
  });
  const set = Object.entries(args.set).map(([k, v]) => `, ${k}=${v}`).join('');
  console.log(`\n${machineLine()}; ${motoVersion} (moto_server); ${args.runs} runs`);
  console.log(`client: AWS SDK v3 in the benchmark's process, a fresh client per upload, the same settings on both sides; dora: its S3 API, bucket /${BUCKET} mounted on s3://${BUCKET}/ on the same moto (write type ${args.writeType}${set}); direct: the same moto; every stored object's size and sha256 checked\n`);
  console.log(table([header, ...body]));
  const json = rows.map((row) => ({ mode: row.mode, doraMs: row.dora, directMs: row.direct, ratio: summarize(row.direct).median / summarize(row.dora).median }));
  console.log(JSON.stringify({ bench: 's3-put', runs: args.runs, sizeBytes: args.sizeMib * MiB, partMib: args.partMib, queue: args.queue, writeType: args.writeType, set: args.set, results: json }, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
}

runBench(main);
