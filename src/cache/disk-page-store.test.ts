import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runPageStoreConformance } from '../testing/page-store-conformance.js';
import { PAGE_HEADER_BYTES } from './disk-page-format.js';
import { DiskPageStore } from './disk-page-store.js';
import type { PageKey } from './page-store.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-disk-pages-'));
  dirs.push(dir);
  return dir;
}
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

runPageStoreConformance('DiskPageStore', {
  create: async (capacityBytes) => DiskPageStore.open({ dir: await tempDir(), capacityBytes }),
  reopen: async (store) => {
    const disk = store as DiskPageStore;
    await disk.close();
    return DiskPageStore.open({ dir: disk.dir, capacityBytes: disk.capacityBytes });
  },
  corrupt: async (store, key) => flipLastByte((store as DiskPageStore).pathOf(key)),
});

const key = (index: number, fileId = 's3://b/k', version = 'v1'): PageKey => ({ fileId, version, index });

describe('DiskPageStore', () => {
  it('writes each page as one file under a hashed directory, beside a meta file naming its file and version', async () => {
    const dir = await tempDir();
    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    await store.put(key(12), Buffer.from('hello'));
    const path = store.pathOf(key(12));
    assert.match(path.slice(dir.length), /^\/([0-9a-f]{2})\/\1[0-9a-f]{62}\/12\.page$/);
    const groupDir = join(path, '..');
    assert.deepEqual((await readdir(groupDir)).sort(), ['12.page', 'meta']);
    const handle = await open(path);
    const file = (await handle.readFile()).subarray(0, PAGE_HEADER_BYTES + 5);
    await handle.close();
    assert.equal(file.subarray(0, 7).toString(), 'DORAPG1');
    assert.equal(file.readUInt32LE(8), 5);
    assert.equal(file.subarray(PAGE_HEADER_BYTES).toString(), 'hello');
    assert.deepEqual(store.stats().bytes, 5, 'data bytes are counted, not the header');
    await store.close();
  });

  it('removes a (file, version) directory with its last page', async () => {
    const dir = await tempDir();
    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    await store.put(key(0), Buffer.from('a'));
    await store.put(key(1), Buffer.from('b'));
    const groupDir = join(store.pathOf(key(0)), '..');
    await store.delete(key(0));
    assert.deepEqual(await readdir(groupDir), ['1.page', 'meta']);
    await store.deleteFile('s3://b/k');
    await store.close();
    await assert.rejects(readdir(groupDir), { code: 'ENOENT' });
  });

  it('a deleteFile() racing puts of the same file leaves neither pages nor files behind', async () => {
    const dir = await tempDir();
    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    const puts = Array.from({ length: 20 }, (_, i) => store.put(key(i, 's3://b/racing'), Buffer.alloc(4096, i)));
    await store.deleteFile('s3://b/racing');
    const results = await Promise.all(puts);
    assert.equal(results.filter(Boolean).length, store.stats().pages, 'a put reports true only for a page it kept');
    await store.deleteFile('s3://b/racing');
    assert.equal(store.stats().pages, 0);
    await store.close();
    assert.deepEqual(await listFiles(dir), []);
  });

  it('a page put again after a delete() cancelled its first write is stored', async () => {
    const dir = await tempDir();
    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    const first = store.put(key(0), Buffer.from('page'));
    await store.delete(key(0));
    const second = store.put(key(0), Buffer.from('page'));
    assert.deepEqual([await first, await second], [false, true]);
    assert.equal((await store.get(key(0)))?.toString(), 'page');
    await store.close();
    assert.equal((await listFiles(dir)).filter((f) => f.endsWith('.page')).length, 1);
  });

  it('a put racing an eviction of the same page never loses the newer copy', async () => {
    const dir = await tempDir();
    const store = await DiskPageStore.open({ dir, capacityBytes: 8192 });
    for (let round = 0; round < 50; round++) {
      await Promise.all([store.put(key(0), Buffer.alloc(4096, 1)), store.put(key(1), Buffer.alloc(4096, 2)), store.put(key(2), Buffer.alloc(4096, 3))]);
    }
    await store.close();
    const reopened = await DiskPageStore.open({ dir, capacityBytes: 8192 });
    for (const i of [0, 1, 2]) {
      if (reopened.has(key(i))) assert.ok((await reopened.get(key(i)))?.equals(Buffer.alloc(4096, i + 1)));
    }
    assert.equal(reopened.stats().pages, 2);
    assert.equal((await listFiles(dir)).filter((f) => f.endsWith('.page')).length, 2, 'every file on disk is in the index');
    await reopened.close();
  });

  it('open() refuses a capacity that is not a whole number ≥ 0, and stops with CANCELLED when aborted', async () => {
    const dir = await tempDir();
    await assert.rejects(DiskPageStore.open({ dir, capacityBytes: -1 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(DiskPageStore.open({ dir, capacityBytes: 10, signal: AbortSignal.abort() }), { code: 'CANCELLED' });
  });

  it('after close() it neither serves nor stores pages', async () => {
    const store = await DiskPageStore.open({ dir: await tempDir(), capacityBytes: 1 << 20 });
    await store.put(key(0), Buffer.from('a'));
    await store.close();
    assert.equal(await store.get(key(0)), undefined);
    assert.equal(await store.put(key(1), Buffer.from('b')), false);
  });
});

/** Every file under `dir`, as paths relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

async function flipLastByte(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, size - 1);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, size - 1);
  } finally {
    await handle.close();
  }
}
