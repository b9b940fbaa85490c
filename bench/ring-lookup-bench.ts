// Hash-ring lookups per second: dora's ConsistentHashSelector against two baselines run side by
// side on the same keys — rendezvous (highest-random-weight) hashing, which scores every worker per
// key, and plain `hash(key) mod N`, the floor any placement pays (one hash of the key, no
// consistency at all). Also prints each one's balance (busiest worker / mean) over the keys.
//
//   node dist/bench/ring-lookup-bench.js [--workers 10] [--keys 200000] [--runs 5] [--replicas 1]
import { hash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConsistentHashSelector } from '../src/hash/consistent-hash-selector.js';
import { ringPosition } from '../src/hash/ring-position.js';
import { formatRatio, summarize, table } from './bench-stats.js';

interface Worker {
  readonly id: string;
}

type Lookup = (key: string) => readonly Worker[];

function parse(argv: string[]): { workers: number; keys: number; runs: number; replicas: number } {
  const { values } = parseArgs({
    args: argv,
    options: { workers: { type: 'string', default: '10' }, keys: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' }, replicas: { type: 'string', default: '1' } },
  });
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Cannot run the benchmark with --${name} ${JSON.stringify(text)}: not a positive integer`);
    return n;
  };
  return { workers: positive('workers', values.workers), keys: positive('keys', values.keys), runs: positive('runs', values.runs), replicas: positive('replicas', values.replicas) };
}

/** Rendezvous hashing: each worker scores hash(worker, key); the highest `count` win. */
function rendezvous(workers: readonly Worker[], count: number): Lookup {
  return (key) => {
    const scored = workers.map((w) => [ringPosition(`${w.id}\u0000${key}`), w] as const);
    scored.sort((a, b) => b[0] - a[0]);
    return scored.slice(0, count).map(([, w]) => w);
  };
}

/** hash(key) mod N: one hash per key, the same cost floor, none of the consistency. */
function modulo(workers: readonly Worker[]): Lookup {
  return (key) => {
    const digest = hash('md5', key, 'binary');
    const n = ((digest.charCodeAt(0) << 16) | (digest.charCodeAt(1) << 8) | digest.charCodeAt(2)) % workers.length;
    return [workers[n]!];
  };
}

function run(lookup: Lookup, keys: readonly string[]): { perSecond: number; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const start = process.hrtime.bigint();
  for (const key of keys) {
    const owner = lookup(key)[0]!;
    counts.set(owner.id, (counts.get(owner.id) ?? 0) + 1);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { perSecond: keys.length / seconds, counts };
}

function main(): void {
  const args = parse(process.argv.slice(2));
  const workers = Array.from({ length: args.workers }, (_, i) => ({ id: `worker-${i}` }));
  const keys = Array.from({ length: args.keys }, (_, i) => `s3://bucket/datasets/train/part-${String(i).padStart(6, '0')}.parquet`);
  const ring = new ConsistentHashSelector(workers);
  const candidates: Array<[string, Lookup]> = [
    [`dora ring (${ConsistentHashSelector.defaultVirtualNodes} vnodes)`, (key) => ring.owners(key, args.replicas)],
    ['rendezvous (HRW)', rendezvous(workers, args.replicas)],
    ['hash mod N', modulo(workers)],
  ];
  const rates = new Map<string, number[]>(candidates.map(([name]) => [name, []]));
  const balance = new Map<string, number>();
  run(candidates[0]![1], keys.slice(0, 10_000)); // warm up the JIT for every candidate's shared code
  for (let r = 0; r < args.runs; r++) {
    const order = r % 2 === 0 ? candidates : [...candidates].reverse(); // neither side always goes first
    for (const [name, lookup] of order) {
      const { perSecond, counts } = run(lookup, keys);
      rates.get(name)!.push(perSecond);
      const mean = keys.length / workers.length;
      balance.set(name, Math.max(...counts.values()) / mean);
    }
  }
  const ringMedian = summarize(rates.get(candidates[0]![0])!).median;
  const rows = [['placement', 'lookups/s (median)', 'min', 'max', 'busiest / mean', 'ring vs this']];
  for (const [name] of candidates) {
    const s = summarize(rates.get(name)!);
    rows.push([name, Math.round(s.median).toLocaleString('en-US'), Math.round(s.min).toLocaleString('en-US'), Math.round(s.max).toLocaleString('en-US'), balance.get(name)!.toFixed(3), formatRatio(ringMedian, s.median)]);
  }
  console.log(`${args.workers} workers, ${args.keys.toLocaleString('en-US')} keys, ${args.replicas} owner(s) per lookup, ${args.runs} runs\n`);
  console.log(table(rows));
}

main();
