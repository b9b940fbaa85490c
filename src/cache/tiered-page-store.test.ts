import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runPageStoreConformance } from '../testing/page-store-conformance.js';
import { DiskPageStore } from './disk-page-store.js';
import { MemoryPageStore } from './memory-page-store.js';
import type { PageKey } from './page-store.js';
import { TieredPageStore } from './tiered-page-store.js';

const run = promisify(execFile);
const dirs: string[] = [];
const immutable: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-tiered-pages-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of immutable) await run('chattr', ['-i', dir]);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A third of the capacity in memory, the rest on one disk. */
runPageStoreConformance('TieredPageStore (memory over disk)', {
  create: async (capacityBytes) => {
    const memory = Math.floor(capacityBytes / 3);
    const disk = await DiskPageStore.open({ dir: await tempDir(), capacityBytes: capacityBytes - memory });
    return new TieredPageStore({ tiers: [new MemoryPageStore({ capacityBytes: memory }), disk] });
  },
  reopen: async (store) => {
    const [memory, disk] = (store as TieredPageStore).tiers as [MemoryPageStore, DiskPageStore];
    await store.close();
    const reopened = await DiskPageStore.open({ dir: disk.dir, capacityBytes: disk.capacityBytes });
    return new TieredPageStore({ tiers: [new MemoryPageStore({ capacityBytes: memory.capacityBytes }), reopened] });
  },
  // The copy on disk is damaged and the one in memory has gone.
  corrupt: async (store, key) => {
    const [memory, disk] = (store as TieredPageStore).tiers as [MemoryPageStore, DiskPageStore];
    await memory.delete(key);
    const handle = await open(disk.pathOf(key), 'r+');
    await handle.write(Buffer.from('garbage'), 0, 7, 20);
    await handle.close();
  },
  copiesPerPage: 2,
});

const key = (index: number, fileId = 's3://b/k'): PageKey => ({ fileId, version: 'v1', index });

async function memoryOverDisks(disks: number, diskCapacity = 1 << 20): Promise<{ store: TieredPageStore; memory: MemoryPageStore; disks: DiskPageStore[] }> {
  const memory = new MemoryPageStore({ capacityBytes: 1 << 20 });
  const opened = await Promise.all(Array.from({ length: disks }, async (_, i) => DiskPageStore.open({ dir: await tempDir(), capacityBytes: diskCapacity, name: `disk:${i}` })));
  return { store: new TieredPageStore({ tiers: [memory, ...opened] }), memory, disks: opened };
}

describe('TieredPageStore', () => {
  it('put() writes each page to memory and to one disk, spreading pages over the disks', async () => {
    const { store, memory, disks } = await memoryOverDisks(2);
    const keys = Array.from({ length: 200 }, (_, i) => key(i % 20, `s3://b/spread-${Math.floor(i / 20)}`));
    for (const k of keys) assert.equal(await store.put(k, Buffer.from('x')), true);
    for (const k of keys) {
      assert.equal(memory.has(k), true);
      assert.equal(disks.filter((d) => d.has(k)).length, 1, 'on exactly one disk');
    }
    const onFirst = disks[0]!.stats().pages;
    assert.ok(onFirst > 60 && onFirst < 140, `${onFirst} of 200 pages on the first disk`);
    await store.close();
  });

  it('get() promotes a disk hit into memory, and tierStats() counts hits and misses by tier', async () => {
    const { store, memory } = await memoryOverDisks(1);
    await store.put(key(0), Buffer.from('0123456789'));
    await memory.delete(key(0));
    assert.equal((await store.get(key(0), { offset: 2, length: 3 }))?.toString(), '234');
    assert.equal(memory.has(key(0)), true, 'promoted');
    assert.equal((await store.get(key(0)))?.toString(), '0123456789');
    assert.equal(await store.get(key(1)), undefined);
    const [m, d] = store.tierStats();
    assert.deepEqual([m?.name, m?.hits, m?.misses, m?.pages], ['memory', 1, 2, 1]);
    assert.deepEqual([d?.name, d?.hits, d?.misses, d?.pages], ['disk:0', 1, 1, 1]);
    assert.equal((d as { failures?: number } | undefined)?.failures, 0, "a tier's own fields come along");
    assert.deepEqual(store.stats(), { pages: 2, bytes: 20, capacityBytes: 2 << 20, evictions: 0 });
    await store.close();
  });

  it('a page read from memory counts as a use on disk, so the disk evicts colder pages first', async () => {
    const { store, disks } = await memoryOverDisks(1, 4000);
    for (const i of [0, 1, 2, 3]) await store.put(key(i), Buffer.alloc(1000, i));
    await store.get(key(0)); // served by memory
    await store.put(key(4), Buffer.alloc(1000, 4));
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => disks[0]!.has(key(i))), [true, false, true, true, true]);
    await store.close();
  });

  it('finds a page on a disk other than its own, after the disks were reordered', async () => {
    const { store, disks } = await memoryOverDisks(2);
    const keys = Array.from({ length: 20 }, (_, i) => key(i));
    for (const k of keys) await store.put(k, Buffer.from(`page ${k.index}`));
    const swapped = new TieredPageStore({ tiers: [new MemoryPageStore({ capacityBytes: 1 << 20 }), disks[1]!, disks[0]!] });
    for (const k of keys) assert.equal((await swapped.get(k))?.toString(), `page ${k.index}`);
    const [m, d1, d0] = swapped.tierStats();
    assert.deepEqual([m?.misses, (d1?.hits ?? 0) + (d0?.hits ?? 0), (d1?.misses ?? 0) + (d0?.misses ?? 0)], [20, 20, 20]);
    await store.close();
  });

  it('keeps caching in memory when its disk has failed', async () => {
    const dir = await tempDir();
    await run('chattr', ['+i', dir]);
    immutable.push(dir);
    const disk = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    const store = new TieredPageStore({ tiers: [new MemoryPageStore({ capacityBytes: 1 << 20 }), disk] });
    assert.equal(await store.put(key(0), Buffer.from('kept in memory')), true);
    assert.equal((await store.get(key(0)))?.toString(), 'kept in memory');
    assert.equal(disk.healthy, false);
    await store.close();
  });

  it('with no tiers caches nothing and never throws', async () => {
    const store = new TieredPageStore({ tiers: [] });
    assert.equal(await store.put(key(0), Buffer.from('x')), false);
    assert.equal(await store.get(key(0)), undefined);
    assert.equal(await store.deleteFile('s3://b/k'), 0);
    assert.deepEqual(store.stats(), { pages: 0, bytes: 0, capacityBytes: 0, evictions: 0 });
    assert.deepEqual(store.tierStats(), []);
    await store.close();
  });
});
