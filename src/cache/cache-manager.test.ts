import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import { CacheManager, type CachedFile, type CacheEvent, type PageFetcher } from './cache-manager.js';
import { MemoryPageStore } from './memory-page-store.js';
import type { PageKey, PageStore } from './page-store.js';

const PAGE = 4096;

/** Bytes of one file version, served page range by page range, with every fetch recorded. */
function source(size: number, options: { delayMs?: number; failFirst?: number } = {}) {
  const data = randomBytes(size);
  const fetched: number[] = [];
  let failures = options.failFirst ?? 0;
  const fetch: PageFetcher = async ({ offset, length }) => {
    fetched.push(offset / PAGE);
    if (options.delayMs !== undefined) await new Promise((r) => setTimeout(r, options.delayMs));
    if (failures > 0) {
      failures -= 1;
      throw new Error('store hiccup');
    }
    return Buffer.from(data.subarray(offset, offset + length));
  };
  const file: CachedFile = { fileId: 's3://b/k', version: 'v1', size };
  return { data, fetched, fetch, file };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

function manager(options: { capacity?: number; readAhead?: number; events?: CacheEvent[] } = {}): CacheManager {
  return new CacheManager({
    store: new MemoryPageStore({ capacityBytes: options.capacity ?? 64 * PAGE }),
    pageSize: PAGE,
    readAheadPages: options.readAhead ?? 0,
    observe: (e) => options.events?.push(e),
  });
}

describe('CacheManager', () => {
  it('read() returns exactly the range asked for, across page boundaries and clamped at the end', async () => {
    const { data, fetch, file } = source(3 * PAGE + 100);
    const cache = manager();
    for (const [offset, length] of [[0, 1], [PAGE - 1, 2], [PAGE, PAGE], [100, 3 * PAGE], [3 * PAGE + 99, 50], [0, 10 * PAGE], [file.size, 5]] as const) {
      const got = await collect(cache.read(file, fetch, { offset, length }));
      assert.ok(got.equals(data.subarray(offset, offset + length)), `${offset}+${length}`);
    }
  });

  it('fetches a page once however many readers miss it at the same time', async () => {
    const { data, fetch, fetched, file } = source(8 * PAGE, { delayMs: 20 });
    const cache = manager();
    const reads = await Promise.all(Array.from({ length: 50 }, () => collect(cache.read(file, fetch, { offset: 0, length: file.size }))));
    for (const r of reads) assert.ok(r.equals(data));
    assert.deepEqual([...fetched].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('serves a second read from the cache and counts hits and misses', async () => {
    const events: CacheEvent[] = [];
    const { fetch, fetched, file } = source(2 * PAGE);
    const cache = manager({ events });
    const results = () => events.flatMap((e) => (e.kind === 'read' ? [e.result] : []));
    const served = (fromCache: boolean) => events.reduce((n, e) => n + (e.kind === 'read' && (e.result === 'hit') === fromCache ? e.bytes : 0), 0);
    await collect(cache.read(file, fetch, { offset: 0, length: file.size }));
    await cache.flush();
    // The first read misses its first page; the second was fetched ahead (a sequential reader)
    // and is joined, or already cached by the time the reader gets to it.
    assert.equal(results()[0], 'miss');
    assert.equal(results().length, 2);
    assert.equal(served(true) + served(false), file.size);
    assert.ok(served(false) >= PAGE, 'the first page came from the store');
    events.length = 0;
    await collect(cache.read(file, fetch, { offset: 1, length: file.size - 2 }));
    assert.equal(fetched.length, 2);
    assert.deepEqual(results(), ['hit', 'hit']);
    assert.deepEqual([served(true), served(false)], [file.size - 2, 0], 'bytes sent count, not whole pages');
  });

  it('reads ahead for a sequential reader and not for a random one', async () => {
    const seq = source(32 * PAGE);
    const cache = manager({ readAhead: 4 });
    await collect(cache.read(seq.file, seq.fetch, { offset: 0, length: 100 }));
    await collect(cache.read(seq.file, seq.fetch, { offset: 100, length: 100 })); // continues where it ended
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(seq.fetched.some((i) => i >= 1), `read-ahead fetched pages beyond the first: ${seq.fetched}`);

    const rnd = source(32 * PAGE);
    const other = manager({ readAhead: 4 });
    for (const page of [7, 2, 19, 11]) await collect(other.read(rnd.file, rnd.fetch, { offset: page * PAGE + 10, length: 10 }));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(rnd.fetched, [7, 2, 19, 11]);
  });

  it('keeps read-ahead work per page constant, so a long read of a cached file stays linear', async () => {
    const pages = 20_000;
    const data = randomBytes(pages * 16);
    const fetch: PageFetcher = async ({ offset, length }) => Buffer.from(data.subarray(offset, offset + length));
    const file: CachedFile = { fileId: 'long', version: 'v', size: data.length };
    const cache = new CacheManager({ store: new MemoryPageStore({ capacityBytes: 2 * data.length }), pageSize: 16, readAheadPages: 8 });
    await collect(cache.read(file, fetch, { offset: 0, length: file.size }));
    const started = performance.now();
    assert.ok((await collect(cache.read(file, fetch, { offset: 0, length: file.size }))).equals(data));
    assert.ok(performance.now() - started < 4000, `a cached read of ${pages} pages took ${Math.round(performance.now() - started)} ms`);
  });

  it('still serves pages when the page store cannot keep them', async () => {
    const { data, fetch, fetched, file } = source(4 * PAGE);
    const cache = manager({ capacity: PAGE - 1 }); // no page fits
    assert.ok((await collect(cache.read(file, fetch, { offset: 0, length: file.size }))).equals(data));
    assert.ok((await collect(cache.read(file, fetch, { offset: 0, length: file.size }))).equals(data));
    assert.ok(fetched.length <= 8, `at most one fetch per page per read, not ${fetched.length}`);
  });

  it('reads from the store when the page store is slower than its timeout (a failing cache disk)', async () => {
    const { data, fetch, file } = source(2 * PAGE);
    const memory = new MemoryPageStore({ capacityBytes: 64 * PAGE });
    const slowDisk: PageStore = {
      name: 'slow-disk',
      capacityBytes: memory.capacityBytes,
      get: async (key: PageKey) => new Promise<Buffer | undefined>((resolve) => setTimeout(() => resolve(memory.get(key)), 2000).unref()),
      put: (key, data) => memory.put(key, data),
      has: (key) => memory.has(key),
      delete: (key) => memory.delete(key),
      deleteFile: (fileId, options) => memory.deleteFile(fileId, options),
      files: (prefix) => memory.files(prefix),
      stats: () => memory.stats(),
      close: () => memory.close(),
    };
    const cache = new CacheManager({ store: slowDisk, pageSize: PAGE, readAheadPages: 0, storeTimeoutMs: 50 });
    await collect(cache.read(file, fetch, { offset: 0, length: file.size }));
    const started = Date.now();
    assert.ok((await collect(cache.read(file, fetch, { offset: 0, length: file.size }))).equals(data));
    assert.ok(Date.now() - started < 1000, 'did not wait for the slow page store');
  });

  it('passes a failed fetch to every waiting reader and caches nothing of it', async () => {
    const { data, fetch, file } = source(PAGE, { delayMs: 10, failFirst: 1 });
    const cache = manager();
    const results = await Promise.allSettled([1, 2, 3].map(() => collect(cache.read(file, fetch, { offset: 0, length: PAGE }))));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    assert.ok((await collect(cache.read(file, fetch, { offset: 0, length: PAGE }))).equals(data));
  });

  it('refuses a page of the wrong length from the store', async () => {
    const file: CachedFile = { fileId: 'x', version: 'v', size: PAGE };
    const cache = manager();
    await assert.rejects(collect(cache.read(file, async () => Buffer.alloc(10), { offset: 0, length: PAGE })), (e: unknown) => isDoraError(e, 'UNAVAILABLE'));
  });

  it('keeps versions apart: pages of one version are never served for another', async () => {
    const one = source(PAGE);
    const two = source(PAGE);
    const cache = manager();
    await collect(cache.read(one.file, one.fetch, { offset: 0, length: PAGE }));
    const newer = { ...one.file, version: 'v2' };
    assert.ok((await collect(cache.read(newer, two.fetch, { offset: 0, length: PAGE }))).equals(two.data));
    assert.equal(await cache.invalidate(one.file.fileId, 'v2'), 1, 'only the old version is dropped');
    assert.ok(cache.has(newer, 0));
  });
});
