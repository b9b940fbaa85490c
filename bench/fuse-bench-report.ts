// The FUSE benchmark's figures and how they are printed: a table of dora, bindfs and the local
// directory side by side, a table of first-byte times through the slow link, the exact commands
// that ran, and one JSON line of every sample.
import { formatMs, summarize, table, type Summary } from './bench-stats.js';
import { machineLine } from './bench-tools.js';
import type { Args } from './fuse-bench.js';
import { DROP_CACHES } from './fuse-mounts.js';

export type Side = 'dora' | 'bindfs' | 'local';
export const SIDES: readonly Side[] = ['dora', 'bindfs', 'local'];
export type Samples = Record<Side, number[]>;

export interface Results {
  /** MiB/s by number of readers. */
  readonly seq: Map<number, Samples>;
  /** IOPS. */
  readonly random: Samples;
  /** Milliseconds. */
  readonly lsCold: Samples;
  readonly lsWarm: Samples;
  /** Milliseconds until the first byte; and the bytes the proxy carried for dora's, until the link was quiet again. */
  readonly ttfb: { dora: number[]; doraLinkBytes: number[]; getObject: number[]; getRange: number[]; headStartup: number[] };
  /** What ran, by what it measured, e.g. `sequential read, 1 reader, dora` → the fio command. */
  readonly commands: Map<string, string>;
}

export interface About {
  readonly fio: string;
  readonly bindfs: string;
  /** `--set` flags of `dora start`. */
  readonly doraFlags: Readonly<Record<string, string>>;
  readonly doraFuse: string;
  readonly bindfsCommand: string;
}

/** Speed ratios at or above this, dora's sequential read against bindfs's, meet the target. */
const TARGET = 0.8;

interface Kind {
  readonly format: (value: number) => string;
  /** Rates: higher is faster; times: lower is. */
  readonly higherIsFaster: boolean;
}

const number = (v: number): string => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
const RATE: Kind = { format: (v) => `${number(v)} MiB/s`, higherIsFaster: true };
const IOPS: Kind = { format: (v) => `${number(v)} IOPS`, higherIsFaster: true };
const TIME: Kind = { format: formatMs, higherIsFaster: false };

export function report(args: Args, about: About, results: Results): void {
  const sizeText = args.sizeMib >= 1024 ? `${args.sizeMib / 1024} GiB` : `${args.sizeMib} MiB`;
  const rows: string[][] = [];
  for (const [readers, samples] of results.seq) {
    if (samples.dora.length > 0) rows.push(row(`sequential read of ${sizeText}, fio bs=1M, ${readers} reader${readers === 1 ? '' : 's'}`, samples, RATE, TARGET));
  }
  if (results.random.dora.length > 0) rows.push(row(`random 4 KiB reads, fio psync${args.randomDirect ? ' O_DIRECT' : ''}, ${args.randomJobs} jobs × ${args.randomSeconds} s`, results.random, IOPS));
  if (results.lsCold.dora.length > 0) {
    rows.push(row(`ls -l of ${args.entries.toLocaleString('en-US')} entries, cold`, results.lsCold, TIME));
    rows.push(row(`ls -l of ${args.entries.toLocaleString('en-US')} entries, warm`, results.lsWarm, TIME));
  }
  const settings = (entries: Readonly<Record<string, string>>, joiner: string): string => Object.entries(entries).map(([k, v]) => `${k}${joiner}${v}`).join(' ');
  console.log(`\n${machineLine()}; ${[about.fio, about.bindfs].filter((v) => v !== '').join('; ')}; ${args.runs} runs`);
  console.log(
    args.dropCaches
      ? `kernel caches DROPPED (\`${DROP_CACHES}\`) before every timed fio run, cold listing and first-byte read, for dora, bindfs and local alike (fio --invalidate=1; ls and head run once on something else after the drop, so only the data is cold): dora's reads come from its worker's cache, bindfs's from the page cache beneath it (the file read back with dd after the drop: the FUSE limit), local's from the disk`
      : 'kernel caches NOT dropped (fio --invalidate=0): reads of all three may come from the kernel page cache',
  );
  console.log(`dora: \`dora start\` (coordinator and worker) in one process, --set ${settings(about.doraFlags, '=')}; its FUSE mount: ${about.doraFuse}`);
  if (about.bindfsCommand !== '') console.log(`bindfs: \`${about.bindfsCommand}\`; local: the source directory itself`);
  if (rows.length > 0) {
    console.log(`ratios compare speed (dora's rate / theirs, or their time / dora's): above 1 means dora is faster; the target applies to sequential reads\n`);
    const header = ['measurement', 'dora median', 'dora min – max', 'bindfs median', 'bindfs min – max', 'local median', 'local min – max', 'dora / bindfs', `≥ ${TARGET.toFixed(2)}x`, 'dora / local'];
    console.log(table([header, ...rows]));
  }
  if (results.ttfb.dora.length > 0) firstByteTable(args, results);
  console.log('\ncommands (each reader a process of its own):');
  for (const [what, command] of results.commands) console.log(`  ${what}: ${command}`);
  const json = {
    bench: 'fuse',
    runs: args.runs,
    sizeBytes: args.sizeMib * 1024 * 1024,
    dropCaches: args.dropCaches,
    seqMiBps: Object.fromEntries(results.seq),
    randomIops: results.random,
    lsColdMs: results.lsCold,
    lsWarmMs: results.lsWarm,
    firstByteMs: results.ttfb,
  };
  console.log(JSON.stringify(json, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
}

function row(label: string, samples: Samples, kind: Kind, target?: number): string[] {
  const s = { dora: summarize(samples.dora), bindfs: summarize(samples.bindfs), local: summarize(samples.local) };
  const speed = (other: Side): number => (kind.higherIsFaster ? s.dora.median / s[other].median : s[other].median / s.dora.median);
  const range = (summary: Summary): string => `${kind.format(summary.min)} – ${kind.format(summary.max)}`;
  return [
    label,
    ...SIDES.flatMap((side) => [kind.format(s[side].median), range(s[side])]),
    `${speed('bindfs').toFixed(2)}x`,
    target === undefined ? '' : speed('bindfs') >= target ? 'yes' : 'NO',
    `${speed('local').toFixed(2)}x`,
  ];
}

function firstByteTable(args: Args, results: Results): void {
  const { dora, getObject, getRange, headStartup } = results.ttfb;
  const d = summarize(dora);
  const startup = summarize(headStartup);
  const net = d.median - startup.median;
  const range = (s: Summary): string => `${formatMs(s.min)} – ${formatMs(s.max)}`;
  const ratios = (s: Summary): string[] => [`${(s.median / d.median).toFixed(2)}x`, `${(s.median / net).toFixed(2)}x`];
  const linkText = args.linkMbit > 0 ? `${args.linkMbit} Mbit/s (${args.linkMbit / 8} MB/s) shared link` : 'no bandwidth cap';
  console.log(`\nfirst byte of a ${args.coldMib} MiB object not in dora's cache, moto behind a DelayProxy (${args.delayMs} ms each way, ${linkText}); both sides through the proxy; ratio = baseline / dora (above 1: dora faster)\n`);
  const rows = [
    ['first byte', 'median', 'min – max', 'baseline / dora', 'baseline / (dora − head startup)'],
    ['dora FUSE: `head -c 1 <mount>/s3/cold-<run>.bin`', formatMs(d.median), range(d), '', ''],
    ['dora FUSE, head startup subtracted', formatMs(net), '', '', ''],
    ['SDK GetObject (whole object) until the first body chunk', formatMs(summarize(getObject).median), range(summarize(getObject)), ...ratios(summarize(getObject))],
    ['SDK GetObject Range: bytes=0-1048575 until the first body chunk', formatMs(summarize(getRange).median), range(summarize(getRange)), ...ratios(summarize(getRange))],
    ['`head -c 1` of a local file (head startup)', formatMs(startup.median), range(startup), '', ''],
  ];
  console.log(table(rows));
  const link = summarize(results.ttfb.doraLinkBytes.map((b) => b / 2 ** 20));
  console.log(`\nfor each first byte through dora the link carried ${link.median.toFixed(1)} MiB (median; ${link.min.toFixed(1)} – ${link.max.toFixed(1)}), both ways, until it was quiet again: metadata, the first page and any read-ahead`);
}
