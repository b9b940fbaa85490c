import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodePageHeader } from './disk-page-format.js';
import { DiskPageLayout, encodeGroupMeta } from './disk-page-layout.js';
import { DiskPageStore } from './disk-page-store.js';
import type { PageKey } from './page-store.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-disk-restore-'));
  dirs.push(dir);
  return dir;
}
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const key = (index: number, fileId = 's3://b/k'): PageKey => ({ fileId, version: 'v1', index });

describe('DiskPageStore restore', () => {
  it('open() rebuilds the index of 20,000 pages in under 3 s without reading page bytes', async () => {
    const dir = await tempDir();
    const pageBytes = 2048;
    const keys = Array.from({ length: 20_000 }, (_, i) => key(i % 10, `s3://bucket/datasets/table/part-${Math.floor(i / 10)}.parquet`));
    writePageFiles(dir, keys, (k) => Buffer.alloc(pageBytes, k.index));

    const readBefore = bytesReadByProcess();
    const start = performance.now();
    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 30 });
    const ms = performance.now() - start;
    const read = bytesReadByProcess() - readBefore;

    assert.deepEqual([store.stats().pages, store.stats().bytes], [20_000, 20_000 * pageBytes]);
    assert.ok(ms < 3000, `restore took ${ms.toFixed(0)} ms`);
    // 2,000 meta files of about 80 bytes; the pages hold 40 MB.
    if (!Number.isNaN(read)) assert.ok(read < 1_000_000, `restore read ${read} bytes`);
    console.log(`restored 20,000 pages in ${ms.toFixed(0)} ms, reading ${read} bytes`);
    assert.ok((await store.get(keys[12_345]!))?.equals(Buffer.alloc(pageBytes, keys[12_345]!.index)));
    assert.equal(await store.deleteFile(keys[0]!.fileId), 10);
    await store.close();
  });

  it('open() evicts the least recently written pages when over a lowered capacity, and keeps that order', async () => {
    const dir = await tempDir();
    const first = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    for (let i = 0; i < 10; i++) await first.put(key(i), Buffer.alloc(1000, i));
    await first.close();
    // Written in reverse index order, so the names and the write order disagree.
    const now = Date.now() / 1000;
    for (let i = 0; i < 10; i++) await utimes(first.pathOf(key(i)), now, now - 100 + (10 - i));

    const store = await DiskPageStore.open({ dir, capacityBytes: 4000 });
    assert.deepEqual(present(store, 10), [true, true, true, true, false, false, false, false, false, false]);
    assert.deepEqual([store.stats().pages, store.stats().bytes, store.stats().evictions], [4, 4000, 6]);
    assert.equal((await listFiles(dir)).filter((f) => f.endsWith('.page')).length, 4, 'evicted pages are deleted from disk');
    await store.put(key(10), Buffer.alloc(1000));
    assert.deepEqual(present(store, 11), [true, true, true, false, false, false, false, false, false, false, true], 'page 3 was the oldest left');
    await store.close();
  });

  it('open() deletes leftover temporary files and ignores a torn page write', async () => {
    const dir = await tempDir();
    const first = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    await first.put(key(0), Buffer.from('whole page'));
    await first.close();
    const pagePath = first.pathOf(key(0));
    const groupDir = join(pagePath, '..');
    await writeFile(join(groupDir, '1.page.0123456789ab.tmp'), Buffer.from('DORAPG1\0\x40')); // cut off mid-header
    await writeFile(join(groupDir, 'meta.0123456789ab.tmp'), '{"fileId":');
    await writeFile(join(dir, '.probe.0123456789ab.tmp'), '');

    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    assert.deepEqual(await listFiles(dir), [pagePath, join(groupDir, 'meta')].map((p) => p.slice(dir.length + 1)).sort());
    assert.equal(store.has(key(1)), false);
    assert.equal(store.stats().pages, 1);
    assert.equal((await store.get(key(0)))?.toString(), 'whole page');
    await store.close();
  });

  it('open() drops page files too short for a header, and pages whose meta file is missing or wrong', async () => {
    const dir = await tempDir();
    const first = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    await first.put(key(0), Buffer.from('kept'));
    await first.put(key(1), Buffer.from('cut short'));
    for (const i of [0, 1]) await first.put(key(i, 's3://b/lost-meta'), Buffer.from('orphan'));
    await first.put(key(0, 's3://b/moved'), Buffer.from('moved'));
    await first.close();
    await truncate(first.pathOf(key(1)), 5);
    await rm(join(first.pathOf(key(0, 's3://b/lost-meta')), '..', 'meta'));
    // A meta file naming another (file, version) than its directory's hash is not trusted.
    const stray = join(dir, 'ab', 'ab'.padEnd(64, '0'));
    await mkdir(stray, { recursive: true });
    await writeFile(join(stray, 'meta'), JSON.stringify({ fileId: 's3://b/k', version: 'v1' }));
    await writeFile(join(stray, '7.page'), Buffer.alloc(100));

    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    assert.deepEqual(present(store, 2), [true, false]);
    assert.equal(store.has(key(0, 's3://b/lost-meta')), false);
    assert.equal(store.has(key(7)), false);
    assert.equal((await store.get(key(0, 's3://b/moved')))?.toString(), 'moved');
    assert.equal(store.stats().corruptions, 1);
    assert.deepEqual((await listFiles(dir)).filter((f) => f.endsWith('.page')).length, 2);
    await store.close();
  });

  it('a page whose file was truncated or removed behind its back is a miss, counted and dropped', async () => {
    const store = await DiskPageStore.open({ dir: await tempDir(), capacityBytes: 1 << 20 });
    await store.put(key(0), Buffer.alloc(100, 1));
    await store.put(key(1), Buffer.alloc(100, 2));
    await truncate(store.pathOf(key(0)), 60);
    await rm(store.pathOf(key(1)));
    assert.equal(await store.get(key(0)), undefined);
    assert.equal(await store.get(key(1), { offset: 10 }), undefined);
    assert.deepEqual([store.has(key(0)), store.has(key(1)), store.stats().pages, store.stats().bytes], [false, false, 0, 0]);
    assert.equal(store.stats().corruptions, 2);
    await store.close();
  });
});

function present(store: DiskPageStore, n: number): boolean[] {
  return Array.from({ length: n }, (_, i) => store.has(key(i)));
}

/** Every file under `dir`, as paths relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

/** Bytes this process has read through read(2) and friends, from /proc/self/io; NaN where there is none. */
function bytesReadByProcess(): number {
  try {
    const match = /^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match === null ? Number.NaN : Number(match[1]);
  } catch {
    return Number.NaN;
  }
}

/** Lays out pages as DiskPageStore writes them, synchronously: ten times faster than 20,000 puts. */
function writePageFiles(dir: string, keys: readonly PageKey[], data: (key: PageKey) => Buffer): void {
  const layout = new DiskPageLayout(dir);
  const made = new Set<string>();
  for (const k of keys) {
    const groupDir = layout.groupDir(layout.groupHash(k.fileId, k.version));
    if (!made.has(groupDir)) {
      mkdirSync(groupDir, { recursive: true });
      writeFileSync(layout.metaPath(groupDir), encodeGroupMeta(k));
      made.add(groupDir);
    }
    const page = data(k);
    writeFileSync(layout.pagePath(groupDir, k.index), Buffer.concat([encodePageHeader(page), page]));
  }
}
