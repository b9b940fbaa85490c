import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DiskPageStore } from './disk-page-store.js';
import type { PageKey } from './page-store.js';

const run = promisify(execFile);
const dirs: string[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-disk-faults-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Root may not write to an immutable directory (chattr +i), whatever its mode bits say. */
async function makeImmutable(dir: string, options: { recursive?: boolean } = {}): Promise<void> {
  const flags = options.recursive === true ? ['-R', '+i', dir] : ['+i', dir];
  await run('chattr', flags);
  cleanups.push(() => run('chattr', options.recursive === true ? ['-R', '-i', dir] : ['-i', dir]));
}

const key = (index: number, fileId = 's3://b/k'): PageKey => ({ fileId, version: 'v1', index });

describe('DiskPageStore on a failing disk', () => {
  it('a full disk makes put() return false without throwing, while cached pages are still served', async (t) => {
    const dir = await tempDir();
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
    } catch (error) {
      return t.skip(`mounting a 2 MiB tmpfs needs CAP_SYS_ADMIN: ${String(error).split('\n')[0]}`);
    }
    cleanups.push(() => run('umount', [dir]));
    const store = await DiskPageStore.open({ dir, capacityBytes: 64 << 20 });
    const page = (i: number): Buffer => Buffer.alloc(256 * 1024, i);
    let stored = 0;
    while (stored < 20 && (await store.put(key(stored), page(stored)))) stored++;
    assert.ok(stored >= 2 && stored < 8, `a 2 MiB disk took ${stored} pages of 256 KiB`);
    assert.equal(store.has(key(stored)), false);
    assert.equal(store.healthy, false);
    assert.equal(store.lastError?.code, 'RESOURCE_EXHAUSTED');
    assert.match(store.lastError?.message ?? '', /^Cannot cache page \d+ of "s3:\/\/b\/k" version "v1": /);
    assert.deepEqual([store.stats().pages, store.stats().bytes, store.stats().failures], [stored, stored * 256 * 1024, 1]);
    for (let i = 0; i < stored; i++) assert.ok((await store.get(key(i), { offset: 1000, length: 10 }))?.equals(page(i).subarray(0, 10)));
    assert.deepEqual((await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');

    await store.delete(key(0));
    assert.equal(await store.put(key(100), page(100)), true, 'space freed is used again');
    assert.equal(store.healthy, true);
    await store.close();
  });

  it('a directory made unwritable after open makes put() return false; cached pages are still served', async () => {
    const dir = await tempDir();
    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    await store.put(key(0), Buffer.from('cached before'));
    await makeImmutable(dir, { recursive: true });
    assert.equal(await store.put(key(1), Buffer.from('same file')), false);
    assert.equal(await store.put(key(0, 's3://b/other-file'), Buffer.from('new file')), false);
    assert.equal((await store.get(key(0)))?.toString(), 'cached before');
    assert.equal(store.healthy, false);
    assert.equal(store.lastError?.code, 'PERMISSION_DENIED');
    assert.equal(store.stats().failures, 2);
    assert.equal(store.stats().pages, 1);
    await store.close();
  });

  it('open() on a directory it cannot write gives a store that caches nothing and never throws', async () => {
    const dir = await tempDir();
    await makeImmutable(dir);
    const store = await DiskPageStore.open({ dir, capacityBytes: 1 << 20 });
    assert.equal(store.healthy, false);
    assert.equal(store.lastError?.code, 'PERMISSION_DENIED');
    assert.match(store.lastError?.message ?? '', /^Cannot open the page store at ".*": /);
    assert.equal(store.capacityBytes, 1 << 20);
    assert.equal(await store.put(key(0), Buffer.from('x')), false);
    assert.equal(await store.get(key(0)), undefined);
    assert.equal(await store.deleteFile('s3://b/k'), 0);
    assert.deepEqual(store.stats(), { pages: 0, bytes: 0, capacityBytes: 1 << 20, evictions: 0, corruptions: 0, failures: 1 });
    await store.close();
  });

  it('open() on a directory that cannot be created gives a store that caches nothing and never throws', async () => {
    const parent = await tempDir();
    await writeFile(join(parent, 'a-file'), 'not a directory');
    const store = await DiskPageStore.open({ dir: join(parent, 'a-file', 'cache'), capacityBytes: 1 << 20 });
    assert.equal(store.healthy, false);
    assert.equal(store.lastError?.code, 'NOT_A_DIRECTORY');
    assert.equal(await store.put(key(0), Buffer.from('x')), false);
    await store.close();
  });

  it('a page file that cannot be read is a miss, counted as a failure, not an error', async () => {
    const store = await DiskPageStore.open({ dir: await tempDir(), capacityBytes: 1 << 20 });
    await store.put(key(0), Buffer.from('page'));
    await rm(store.pathOf(key(0)));
    await mkdir(store.pathOf(key(0))); // reading it now fails with EISDIR
    assert.equal(await store.get(key(0)), undefined);
    assert.equal(store.stats().failures, 1);
    assert.equal(store.lastError?.code, 'IS_A_DIRECTORY');
    await store.close();
  });
});
