// Issue 5's failover benchmark: how long after a worker is SIGKILLed its files can be read again.
// A LocalCluster (etcd, a coordinator and 3 `dora worker` processes) serves a file:// mount of
// small files, every one cached on its owner. Each round SIGKILLs one worker and, for every file
// that worker owned, times from the SIGKILL to the first complete, correct read of the file, side
// by side for two clients in the same process and the same rounds:
// - dora: a DoraClient as shipped (failover to the next worker on the file's ring, then the store);
// - baseline: a DoraClient that knows only each file's owner (its selector's owners(key, n) returns
//   the first worker alone) and has no store fallback, retrying a failed read every 50 ms. It
//   reads again only once membership drops the dead worker (its etcd lease ends) and its ring is
//   rebuilt without it: what a client without failover waits for.
// Both sides start at the same moment after the signal and share this process's event loop. As a
// reference, the dora client first reads the same files at the same concurrency with every worker
// up. Reads are checked (length and sha256) after each round, outside the timed reads.
// With --signal STOP the worker is frozen (SIGSTOP) instead: a hung worker or a host that stops
// answering, whose sockets stay open; it is SIGKILLed once the round's reads are done.
// Every process runs with membership.leaseTtl=5s, the default, so the baseline is what a real
// cluster would show. The worker is restarted (warm, from its data directory) between rounds.
// The first round (--warmup-rounds) is run the same way and left out: in a new cluster every
// process's first failover is slow (code not yet compiled), which a long-running cluster is not.
//
//   node dist/bench/cluster-failover-bench.js [--workers 3] [--files 90] [--size-kib 1024]
//        [--rounds 6] [--warmup-rounds 1] [--retry-ms 50] [--lease 5s] [--signal KILL|STOP]
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { WorkerInfo } from '../src/client/client-types.js';
import type { DoraClient } from '../src/client/dora-client.js';
import { ConsistentHashSelector } from '../src/hash/consistent-hash-selector.js';
import type { RingMember, WorkerSelector } from '../src/hash/worker-selector.js';
import { startLocalCluster, type LocalCluster, type LocalWorker } from '../src/testing/local-cluster.js';
import { formatMs, formatRatio, percentile, summarize, table } from './bench-stats.js';
import { formatBytes, machineLine, positiveInt, runBench, writeRandomFile, type Cleanup } from './bench-tools.js';
import { pidsByCommandLine } from './process-cpu.js';

const KiB = 1024;
/** How long one side may take to read every file of a killed worker before the round fails. */
const ROUND_TIMEOUT_MS = 180_000;

interface Args {
  readonly workers: number;
  readonly files: number;
  readonly sizeKib: number;
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly retryMs: number;
  readonly lease: string;
  readonly signal: 'SIGKILL' | 'SIGSTOP';
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string', default: '3' },
      files: { type: 'string', default: '90' },
      'size-kib': { type: 'string', default: '1024' },
      rounds: { type: 'string', default: '6' },
      'warmup-rounds': { type: 'string', default: '1' },
      'retry-ms': { type: 'string', default: '50' },
      lease: { type: 'string', default: '5s' },
      signal: { type: 'string', default: 'KILL' },
    },
  });
  const workers = positiveInt('workers', values.workers);
  const signal = values.signal.toUpperCase().replace(/^SIG/, '');
  if (signal !== 'KILL' && signal !== 'STOP') throw new Error(`Cannot run the benchmark with --signal ${JSON.stringify(values.signal)}: use KILL or STOP`);
  if (workers < 2) throw new Error('Cannot run the benchmark with --workers 1: a killed worker needs another to fail over to');
  return {
    workers,
    files: positiveInt('files', values.files),
    sizeKib: positiveInt('size-kib', values['size-kib']),
    rounds: positiveInt('rounds', values.rounds),
    warmupRounds: values['warmup-rounds'] === '0' ? 0 : positiveInt('warmup-rounds', values['warmup-rounds']),
    retryMs: positiveInt('retry-ms', values['retry-ms']),
    lease: values.lease,
    signal: signal === 'KILL' ? 'SIGKILL' : 'SIGSTOP',
  };
}

interface BenchFile {
  readonly path: string;
  readonly sha256: string;
}

type Side = 'dora' | 'baseline';
const SIDES: readonly Side[] = ['dora', 'baseline'];

/** One side's reads of one round: ms from the signal to each file's first good read, and the failed attempts. */
interface SideRound {
  readonly ms: number[];
  /** What each successful read returned, checked after the round. */
  readonly reads: Array<[BenchFile, Buffer]>;
  failedAttempts: number;
  readonly errors: Map<string, number>;
}

interface Round {
  readonly victim: string;
  readonly files: number;
  /** From the SIGKILL until this process saw the worker exit (SIGKILL only). */
  readonly exitMs: number | undefined;
  /** From the signal until the coordinator stopped listing the worker. */
  readonly unlistedMs: number;
  readonly sides: Record<Side, SideRound>;
  /** Before the signal: ms from the start to the end of each of the same reads, every worker up (dora client). */
  readonly referenceMs: readonly number[];
  /** Failovers and fallbacks the dora client counted in the round. */
  readonly failovers: number;
  readonly fallbacks: number;
}

function newSideRound(): SideRound {
  return { ms: [], reads: [], failedAttempts: 0, errors: new Map() };
}

/** A selector that gives only a key's owner, whatever count is asked: a client with no worker to fail over to. */
function ownerOnly<T extends RingMember>(ring: WorkerSelector<T>): WorkerSelector<T> {
  return { members: ring.members, owners: (key) => ring.owners(key, 1) };
}

/** The pid of a worker's node process, found by its data directory (LocalWorker does not expose it). */
async function workerPid(worker: LocalWorker): Promise<number> {
  const pids = await pidsByCommandLine((argv) => argv.some((a, i) => a === '--data-dir' && argv[i + 1] === worker.dataDir) && !argv[0]!.endsWith('setpriv'));
  if (pids.length !== 1) throw new Error(`Cannot find the process of worker ${worker.id}: ${pids.length} processes run with --data-dir ${worker.dataDir}`);
  return pids[0]!;
}

/** Reads a whole file; returns its bytes, to be checked once the timed reads are over. Rejects on any failure. */
async function readWhole(client: DoraClient, file: BenchFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await client.read(file.path)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Throws unless `data` is the file's content (length and sha256). */
function check(file: BenchFile, data: Buffer, size: number): void {
  const digest = createHash('sha256').update(data).digest('hex');
  if (data.length !== size || digest !== file.sha256) {
    throw new Error(`Wrong bytes for ${file.path}: ${data.length} bytes with sha256 ${digest}, expected ${size} bytes with ${file.sha256}`);
  }
}

/** Reads `file` until one read succeeds, every `retryMs`; records ms from `since` to that read's end, and its bytes. */
async function readUntilGood(client: DoraClient, file: BenchFile, since: number, retryMs: number, into: SideRound): Promise<void> {
  for (;;) {
    try {
      const data = await readWhole(client, file);
      into.ms.push(performance.now() - since);
      into.reads.push([file, data]);
      return;
    } catch (error) {
      into.failedAttempts++;
      const code = (error as { code?: unknown }).code;
      const key = typeof code === 'string' ? code : String(error);
      into.errors.set(key, (into.errors.get(key) ?? 0) + 1);
      if (performance.now() - since > ROUND_TIMEOUT_MS) throw new Error(`Cannot read ${file.path} within ${ROUND_TIMEOUT_MS} ms of the signal: ${String(error)}`);
      await sleep(retryMs);
    }
  }
}

/** Waits until `client` places every file on its owner at the owner's current address (a restarted worker has new ports). */
async function awaitPlacement(cluster: LocalCluster, client: DoraClient, files: readonly BenchFile[], placement: ReadonlyMap<string, string>): Promise<void> {
  const deadline = Date.now() + 30_000;
  const address = new Map(cluster.workers.filter((w) => w.running).map((w) => [w.id, w.workerUrl]));
  for (;;) {
    const owners = await Promise.all(files.map(async (f) => (await client.owners(f.path))[0]));
    const wrong = files.filter((f, i) => owners[i]?.id !== placement.get(f.path) || owners[i]?.address !== address.get(owners[i]?.id ?? ''));
    if (wrong.length === 0) return;
    if (Date.now() > deadline) throw new Error(`A client still places ${wrong.length} files elsewhere than on their owners 30 s after the restart, e.g. ${wrong[0]?.path}`);
    await sleep(100);
  }
}

/** Reads every file through `client` and checks it (untimed): warms connections, the ring, and the owners' caches. */
async function readAll(client: DoraClient, files: readonly BenchFile[], size: number): Promise<void> {
  for (let i = 0; i < files.length; i += 8) {
    await Promise.all(files.slice(i, i + 8).map(async (f) => check(f, await readWhole(client, f), size)));
  }
}

async function runRound(args: Args, cluster: LocalCluster, clients: Record<Side, DoraClient>, files: readonly BenchFile[], placement: ReadonlyMap<string, string>, round: number): Promise<Round> {
  const size = args.sizeKib * KiB;
  const victim: LocalWorker = cluster.workers[round % cluster.workers.length]!;
  for (const side of SIDES) await awaitPlacement(cluster, clients[side], files, placement);
  for (const side of SIDES) await readAll(clients[side], files, size);
  const owned = files.filter((f) => placement.get(f.path) === victim.id);
  if (owned.length === 0) throw new Error(`Cannot run round ${round + 1}: worker ${victim.id} owns none of the ${files.length} files; use more --files`);
  // Reference: the same reads at the same concurrency with every worker up (hot, from the owner).
  const reference = newSideRound();
  const referenceStart = performance.now();
  await Promise.all(owned.map((f) => readUntilGood(clients.dora, f, referenceStart, args.retryMs, reference)));
  for (const [file, data] of reference.reads) check(file, data, size);
  const before = clients.dora.stats();
  const sides: Record<Side, SideRound> = { dora: newSideRound(), baseline: newSideRound() };

  const pid = args.signal === 'SIGSTOP' ? await workerPid(victim) : undefined;
  const signalledAt = performance.now();
  let exitMs: number | undefined;
  if (pid === undefined) {
    await victim.kill();
    exitMs = performance.now() - signalledAt;
  } else {
    process.kill(pid, 'SIGSTOP');
  }
  // Neither side always starts first.
  const order = round % 2 === 0 ? SIDES : [...SIDES].reverse();
  const unlisted = cluster.waitForNodes((workers) => !workers.some((w) => w.id === victim.id), ROUND_TIMEOUT_MS).then(() => performance.now() - signalledAt);
  await Promise.all(order.flatMap((side) => owned.map((f) => readUntilGood(clients[side], f, signalledAt, args.retryMs, sides[side]))));
  const unlistedMs = await unlisted;
  for (const side of SIDES) {
    for (const [file, data] of sides[side].reads) check(file, data, size);
    sides[side].reads.length = 0;
  }
  const after = clients.dora.stats();
  if (pid !== undefined) await victim.kill(); // SIGKILL ends a stopped process too
  await victim.restart();
  return { victim: victim.id, files: owned.length, exitMs, unlistedMs, sides, referenceMs: reference.ms, failovers: after.failovers - before.failovers, fallbacks: after.fallbacks - before.fallbacks };
}

function report(args: Args, rounds: readonly Round[], perWorker: ReadonlyMap<string, number>): void {
  const size = args.sizeKib * KiB;
  const all = (side: Side): number[] => rounds.flatMap((r) => r.sides[side].ms);
  const roundP50s = (side: Side): number[] => rounds.map((r) => percentile(r.sides[side].ms, 50));
  const describe = (side: Side): string => (side === 'dora' ? 'dora (failover to the next worker, then the store)' : `baseline (owner only, no fallback, retry every ${args.retryMs} ms)`);
  const rows = [['client', 'reads', 'p50', 'p99', 'min', 'max', 'p50 of each round, min – max', 'failed attempts']];
  for (const side of SIDES) {
    const ms = all(side);
    const perRound = summarize(roundP50s(side));
    rows.push([describe(side), String(ms.length), formatMs(percentile(ms, 50)), formatMs(percentile(ms, 99)), formatMs(Math.min(...ms)), formatMs(Math.max(...ms)), `${formatMs(perRound.min)} – ${formatMs(perRound.max)}`, String(rounds.reduce((n, r) => n + r.sides[side].failedAttempts, 0))]);
  }
  const [dora, baseline] = [all('dora'), all('baseline')];
  rows.push(['ratio (baseline / dora)', '', formatRatio(percentile(baseline, 50), percentile(dora, 50)), formatRatio(percentile(baseline, 99), percentile(dora, 99)), '', '', '', '']);
  const reference = rounds.flatMap((r) => r.referenceMs);
  const referenceRounds = summarize(rounds.map((r) => percentile(r.referenceMs, 50)));
  rows.push([
    `reference: dora, the same reads just before the ${args.signal}, no worker down (time from their start)`,
    String(reference.length),
    formatMs(percentile(reference, 50)),
    formatMs(percentile(reference, 99)),
    formatMs(Math.min(...reference)),
    formatMs(Math.max(...reference)),
    `${formatMs(referenceRounds.min)} – ${formatMs(referenceRounds.max)}`,
    '',
  ]);

  const unlisted = summarize(rounds.map((r) => r.unlistedMs));
  const exits = rounds.flatMap((r) => (r.exitMs === undefined ? [] : [r.exitMs]));
  const errors = new Map<string, number>();
  for (const r of rounds) for (const side of SIDES) for (const [code, n] of r.sides[side].errors) errors.set(`${side}: ${code}`, (errors.get(`${side}: ${code}`) ?? 0) + n);

  console.log(`${machineLine()}; ${args.workers} workers (LocalCluster: etcd, 1 coordinator, \`dora worker\` processes), membership.leaseTtl=${args.lease}, client cluster TTL 3 s (the default); ${args.rounds} round${args.rounds === 1 ? '' : 's'} after ${args.warmupRounds} warm-up round${args.warmupRounds === 1 ? '' : 's'}`);
  console.log(
    `${args.files} files of ${args.sizeKib >= 1024 ? formatBytes(size) : `${args.sizeKib} KiB`} on a file:// mount, each cached on its owner (${[...perWorker.values()].join(' / ')} per worker); each round sends ${args.signal} to one worker (${args.signal === 'SIGSTOP' ? 'SIGKILLed after the reads, ' : ''}restarted between rounds), then both clients read each of its files until one read is complete and correct (bytes and sha256); time = from the ${args.signal} to the end of that read`,
  );
  console.log('');
  console.log(table(rows));
  console.log('');
  const exited = exits.length === 0 ? 'the worker stayed frozen until the reads were done' : `the worker had exited ${formatMs(summarize(exits).median)} after it (median)`;
  console.log(`the coordinator stopped listing the worker ${formatMs(unlisted.median)} after the ${args.signal} (median; ${formatMs(unlisted.min)} – ${formatMs(unlisted.max)}); ${exited}`);
  console.log(`dora client: ${rounds.reduce((n, r) => n + r.failovers, 0)} failovers and ${rounds.reduce((n, r) => n + r.fallbacks, 0)} store fallbacks in all; failed attempts by cause: ${[...errors].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}`);
  const json = {
    bench: 'cluster-failover',
    workers: args.workers,
    files: args.files,
    sizeBytes: size,
    lease: args.lease,
    signal: args.signal,
    retryMs: args.retryMs,
    rounds: rounds.map((r) => ({
      victim: r.victim,
      files: r.files,
      exitMs: r.exitMs === undefined ? null : round2(r.exitMs),
      unlistedMs: round2(r.unlistedMs),
      referenceMs: r.referenceMs.map(round2),
      failovers: r.failovers,
      fallbacks: r.fallbacks,
      ...Object.fromEntries(SIDES.map((side) => [side, { ms: r.sides[side].ms.map(round2), failedAttempts: r.sides[side].failedAttempts }])),
    })),
  };
  console.log(JSON.stringify(json));
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

async function main(cleanup: Cleanup): Promise<void> {
  const args = parse(process.argv.slice(2));
  const size = args.sizeKib * KiB;
  const root = cleanup.add(await mkdtemp(join(tmpdir(), 'dora-failover-bench-')), (dir) => rm(dir, { recursive: true, force: true }));
  const dataDir = join(root, 'store');
  await mkdir(dataDir);
  const files: BenchFile[] = [];
  for (let i = 0; i < args.files; i++) {
    const name = `file-${String(i).padStart(4, '0')}.bin`;
    await writeRandomFile(join(dataDir, name), size);
    files.push({ path: `/data/${name}`, sha256: createHash('sha256').update(await readFile(join(dataDir, name))).digest('hex') });
  }

  const starting = startLocalCluster({ workers: args.workers, set: { 'membership.leaseTtl': args.lease }, mounts: [{ path: '/data', uri: `file://${dataDir}/` }] });
  // Stops the cluster even if it is still starting when the benchmark is interrupted.
  const cluster = await cleanup.add(starting, (s) => s.then((c) => c.stop(), () => undefined));
  const clients: Record<Side, DoraClient> = {
    dora: cluster.client(),
    baseline: cluster.client({ selector: (workers: readonly WorkerInfo[]) => ownerOnly(new ConsistentHashSelector(workers)), fallback: false }),
  };
  const placement = new Map<string, string>();
  for (const f of files) placement.set(f.path, (await clients.dora.owners(f.path))[0]!.id);
  const perWorker = new Map(cluster.workers.map((w) => [w.id, 0]));
  for (const id of placement.values()) perWorker.set(id, (perWorker.get(id) ?? 0) + 1);

  const rounds: Round[] = [];
  for (let r = 0; r < args.warmupRounds + args.rounds; r++) {
    const round = await runRound(args, cluster, clients, files, placement, r);
    const warmup = r < args.warmupRounds;
    if (!warmup) rounds.push(round);
    const p50 = (side: Side): string => formatMs(percentile(round.sides[side].ms, 50));
    const name = warmup ? `warm-up round ${r + 1} (left out)` : `round ${r + 1 - args.warmupRounds}/${args.rounds}`;
    console.error(`${name}: ${args.signal === 'SIGKILL' ? 'killed' : 'froze'} ${round.victim} (${round.files} files): dora p50 ${p50('dora')}, baseline p50 ${p50('baseline')}, reference p50 ${formatMs(percentile(round.referenceMs, 50))}, unlisted after ${formatMs(round.unlistedMs)}`);
  }
  report(args, rounds, perWorker);
}

runBench(main);
