// The page stores' memory and disk overhead per cached page, and how long a disk store takes to
// rebuild its index at open.
//
//   node --expose-gc dist/bench/page-index-bench.js [--pages N] [--runs N] [--skip-disk]
//
// Index bytes per page: the growth of the V8 heap (after full GCs) when N pages are indexed,
// divided by N. For MemoryPageStore that is the index plus each page's Buffer object, not the
// page data (held outside the heap). For DiskPageStore it is everything the store keeps in memory,
// measured on a real store opened over N page files (which also times the restore).
import { mkdirSync, writeFileSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { encodePageHeader } from '../src/cache/disk-page-format.js';
import { DiskPageLayout, encodeGroupMeta } from '../src/cache/disk-page-layout.js';
import { DiskPageStore } from '../src/cache/disk-page-store.js';
import { MemoryPageStore } from '../src/cache/memory-page-store.js';
import type { PageKey } from '../src/cache/page-store.js';
import { formatMs, summarize, table, timeIt } from './bench-stats.js';

interface Args {
  readonly pages: number;
  readonly runs: number;
  readonly skipDisk: boolean;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({ args: argv, options: { pages: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' }, 'skip-disk': { type: 'boolean', default: false } } });
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`Cannot run the benchmark with --${name} ${JSON.stringify(text)}: not a positive integer`);
    return n;
  };
  return { pages: positive('pages', values.pages), runs: positive('runs', values.runs), skipDisk: values['skip-disk'] };
}

/** Realistic keys: a 90-character object URI and a quoted 32-digit ETag per file. */
function keys(pages: number, pagesPerFile: number): PageKey[] {
  const out: PageKey[] = [];
  for (let f = 0; out.length < pages; f++) {
    const fileId = `s3://analytics-bucket/warehouse/sales/date=2024-06-01/part-${String(f).padStart(5, '0')}-c0ffee.snappy.parquet`;
    const version = `"${f.toString(16).padStart(32, '0')}"`;
    for (let index = 0; index < pagesPerFile && out.length < pages; index++) out.push({ fileId, version, index });
  }
  return out;
}

/** Heap in use after full collections; a turn of the event loop first lets settled promises release what they held. */
async function heapUsed(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('Cannot measure heap use: run node with --expose-gc');
  await nextTurn();
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function memoryStoreBytesPerPage(pageKeys: PageKey[]): Promise<number> {
  const page = Buffer.alloc(1);
  const before = await heapUsed();
  const store = new MemoryPageStore({ capacityBytes: pageKeys.length });
  for (const key of pageKeys) await store.put(key, page);
  const after = await heapUsed();
  if (store.stats().pages !== pageKeys.length) throw new Error(`Cannot measure: ${store.stats().pages} of ${pageKeys.length} pages stored`);
  return (after - before) / pageKeys.length;
}

/** Writes page files the way DiskPageStore does, but synchronously and fast, to restore from. */
function writePageFiles(dir: string, pageKeys: PageKey[], pageBytes: number): void {
  const layout = new DiskPageLayout(dir);
  const data = Buffer.alloc(pageBytes, 7);
  const file = Buffer.concat([encodePageHeader(data), data]);
  let lastGroup = '';
  for (const key of pageKeys) {
    const groupDir = layout.groupDir(layout.groupHash(key.fileId, key.version));
    if (groupDir !== lastGroup) {
      mkdirSync(groupDir, { recursive: true });
      writeFileSync(layout.metaPath(groupDir), encodeGroupMeta(key));
      lastGroup = groupDir;
    }
    writeFileSync(layout.pagePath(groupDir, key.index), file);
  }
}

/** Bytes the file system allocates for everything under `dir` (blocks of files and directories). */
async function allocatedBytes(dir: string, options: { rootOnly?: boolean } = {}): Promise<number> {
  let total = (await lstat(dir)).blocks * 512;
  if (options.rootOnly === true) return total;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) total += (await lstat(join(entry.parentPath, entry.name))).blocks * 512;
  return total;
}

/** Restores a store of `pageKeys` (1 KiB pages: restore never reads page bytes) `runs` times. */
async function restoreRuns(pageKeys: PageKey[], runs: number): Promise<{ restoreMs: number[]; heapPerPage: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-index-bench-'));
  try {
    writePageFiles(dir, pageKeys, 1024);
    const restoreMs: number[] = [];
    let heapPerPage = 0;
    for (let run = 0; run < runs; run++) {
      const measured = await openMeasured(dir, pageKeys.length);
      restoreMs.push(measured.ms);
      heapPerPage = measured.heapPerPage;
    }
    return { restoreMs, heapPerPage };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openMeasured(dir: string, pages: number): Promise<{ ms: number; heapPerPage: number }> {
  const before = await heapUsed();
  const { ms, value: store } = await timeIt(() => DiskPageStore.open({ dir, capacityBytes: 2 ** 50 }));
  const after = await heapUsed();
  if (store.stats().pages !== pages) throw new Error(`Cannot measure: restored ${store.stats().pages} of ${pages} pages`);
  await store.close();
  return { ms, heapPerPage: (after - before) / pages };
}

/** Disk bytes allocated beyond the page data, per page: headers, block rounding, directories, meta files. */
async function diskOverheadPerPage(pageBytes: number, pagesPerFile: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-overhead-bench-'));
  try {
    const pageKeys = keys(100, pagesPerFile);
    writePageFiles(dir, pageKeys, pageBytes);
    return ((await allocatedBytes(dir)) - (await allocatedBytes(dir, { rootOnly: true })) - pageKeys.length * pageBytes) / pageKeys.length;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const n = args.pages.toLocaleString('en-US');
  const head = ['pages per file', 'memory store: heap B/page', ...(args.skipDisk ? [] : ['disk store: heap B/page', `restore of ${n} pages: median (min–max)`])];
  const rows: string[][] = [head];
  for (const perFile of [1, 10, 100]) {
    const pageKeys = keys(args.pages, perFile);
    const row = [String(perFile), (await memoryStoreBytesPerPage(pageKeys)).toFixed(0)];
    if (!args.skipDisk) {
      const disk = await restoreRuns(pageKeys, args.runs);
      const s = summarize(disk.restoreMs);
      row.push(disk.heapPerPage.toFixed(0), `${formatMs(s.median)} (${formatMs(s.min)}–${formatMs(s.max)})`);
    }
    rows.push(row);
  }
  console.log(`${n} pages; heap growth after full GCs; ${args.runs} restores each (warm page cache)\n`);
  console.log(table(rows));
  if (args.skipDisk) return;
  const overhead: string[][] = [['page size', 'pages per file', 'disk overhead B/page', 'of the page']];
  for (const pageBytes of [4096, 1024 * 1024]) {
    for (const perFile of [1, 10]) {
      const bytes = await diskOverheadPerPage(pageBytes, perFile);
      overhead.push([pageBytes === 4096 ? '4 KiB' : '1 MiB', String(perFile), bytes.toFixed(0), `${((100 * bytes) / pageBytes).toFixed(1)} %`]);
    }
  }
  console.log(`\nDisk space allocated beyond page data (blocks of page files, meta files and directories), 100 pages\n`);
  console.log(table(overhead));
}

await main();
