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

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('Cannot measure heap use: run node with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function memoryStoreBytesPerPage(pageKeys: PageKey[]): Promise<number> {
  const page = Buffer.alloc(1);
  const before = heapUsed();
  const store = new MemoryPageStore({ capacityBytes: pageKeys.length });
  for (const key of pageKeys) await store.put(key, page);
  const after = heapUsed();
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
async function allocatedBytes(dir: string): Promise<number> {
  let total = (await lstat(dir)).blocks * 512;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) total += (await lstat(join(entry.parentPath, entry.name))).blocks * 512;
  return total;
}

async function diskRun(pageKeys: PageKey[], pageBytes: number, runs: number): Promise<{ restoreMs: number[]; heapPerPage: number; diskPerPage: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-index-bench-'));
  try {
    writePageFiles(dir, pageKeys, pageBytes);
    const diskPerPage = ((await allocatedBytes(dir)) - pageKeys.length * pageBytes) / pageKeys.length;
    const restoreMs: number[] = [];
    let heapPerPage = 0;
    for (let run = 0; run < runs; run++) {
      const before = heapUsed();
      const { ms, value: store } = await timeIt(() => DiskPageStore.open({ dir, capacityBytes: 2 ** 50 }));
      const after = heapUsed();
      if (store.stats().pages !== pageKeys.length) throw new Error(`Cannot measure: restored ${store.stats().pages} of ${pageKeys.length} pages`);
      restoreMs.push(ms);
      heapPerPage = (after - before) / pageKeys.length;
      await store.close();
    }
    return { restoreMs, heapPerPage, diskPerPage };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const n = args.pages.toLocaleString('en-US');
  const rows: string[][] = [];
  for (const perFile of [1, 10, 100]) {
    const pageKeys = keys(args.pages, perFile);
    const memory = await memoryStoreBytesPerPage(pageKeys);
    const row = [String(perFile), memory.toFixed(0)];
    if (!args.skipDisk) {
      const disk = await diskRun(pageKeys, 4096, args.runs);
      const s = summarize(disk.restoreMs);
      row.push(disk.heapPerPage.toFixed(0), `${formatMs(s.median)} (${formatMs(s.min)}–${formatMs(s.max)})`, disk.diskPerPage.toFixed(0));
    }
    rows.push(row);
  }
  const head = ['pages per file', 'memory store: heap B/page', ...(args.skipDisk ? [] : ['disk store: heap B/page', `restore of ${n} pages, median (min–max)`, 'disk overhead B/page (4 KiB pages)'])];
  console.log(`${n} pages; heap after full GCs; ${args.runs} restore runs each\n`);
  console.log(table([head, ...rows]));
}

await main();
