import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { PageKey, PageStore } from '../cache/page-store.js';
import { rejectsWith } from './assertions.js';

/** What a page store's test file provides to run the shared suite. */
export interface PageStoreFixture {
  /** A new, empty store; each test gets its own. Its `capacityBytes` may differ from the request (a tiered store splits it). */
  create(capacityBytes: number): Promise<PageStore>;
  /** Closes the store and opens it again on the same storage; only for stores whose pages survive a restart. */
  reopen?(store: PageStore): Promise<PageStore>;
  /** Damages the stored bytes of a present page so its checksum fails; only for stores that checksum. */
  corrupt?(store: PageStore, key: PageKey): Promise<void>;
  /** Copies of each page that `stats()` counts: a tiered store keeps one in memory and one on disk. Default 1. */
  readonly copiesPerPage?: number;
  /** Called once after every test. */
  teardown?(): Promise<void>;
}

const KiB = 1024;

/** Every behaviour of the PageStore contract, run unchanged by every implementation. */
export function runPageStoreConformance(name: string, fixture: PageStoreFixture): void {
  describe(`PageStore conformance: ${name}`, () => {
    const copies = fixture.copiesPerPage ?? 1;
    const opened: PageStore[] = [];
    const fresh = async (capacityBytes = 64 * KiB): Promise<PageStore> => {
      const store = await fixture.create(capacityBytes);
      opened.push(store);
      return store;
    };
    after(async () => {
      await Promise.all(opened.map((s) => s.close()));
      await fixture.teardown?.();
    });

    it('get returns a put page whole and any range of it, clamped to the page', async () => {
      const store = await fresh();
      for (const size of [0, 1, 4 * KiB + 17]) {
        const key = { fileId: 's3://b/ranges', version: 'v1', index: size };
        const data = randomBytes(size);
        assert.equal(await store.put(key, data), true);
        assert.ok((await store.get(key))?.equals(data), `whole page of ${size} bytes`);
        const n = size;
        const cases: [number | undefined, number | undefined][] = [
          [0, 0], [0, 1], [0, n], [n - 1, 1], [n - 1, 100], [n, 10], [n, undefined], [n + 5, undefined], [n + 5, 3],
          [5, undefined], [undefined, 3], [undefined, undefined], [1, n], [Math.floor(n / 2), Math.floor(n / 3)],
        ];
        for (const [offset, length] of cases) {
          if (offset !== undefined && offset < 0) continue;
          const range = { ...(offset === undefined ? {} : { offset }), ...(length === undefined ? {} : { length }) };
          const start = Math.min(offset ?? 0, n);
          const expected = data.subarray(start, Math.min(n, start + (length ?? n)));
          assert.ok((await store.get(key, range))?.equals(expected), `${size}-byte page, range ${offset}+${length}`);
        }
      }
    });

    it('get of a page never put, of another index or of another version is a miss (undefined)', async () => {
      const store = await fresh();
      const key = { fileId: 's3://b/miss', version: 'v1', index: 0 };
      assert.equal(await store.get(key), undefined);
      await store.put(key, Buffer.from('page'));
      for (const other of [{ ...key, index: 1 }, { ...key, version: 'v2' }, { ...key, fileId: 's3://b/miss2' }]) {
        assert.equal(await store.get(other), undefined);
        assert.equal(store.has(other), false);
      }
      assert.equal(store.has(key), true);
    });

    it('put is idempotent: the same page put twice, even concurrently, is stored once', async () => {
      const store = await fresh();
      const key = { fileId: 's3://b/idem', version: 'v1', index: 3 };
      const data = randomBytes(2 * KiB);
      assert.equal(await store.put(key, data), true);
      assert.equal(await store.put(key, data), true);
      const other = { ...key, index: 4 };
      assert.deepEqual(await Promise.all(Array.from({ length: 10 }, () => store.put(other, data))), Array(10).fill(true));
      assert.equal(store.stats().pages, 2 * copies);
      assert.equal(store.stats().bytes, 2 * data.length * copies);
      assert.ok((await store.get(other))?.equals(data));
    });

    it('delete drops one page and is idempotent', async () => {
      const store = await fresh();
      const a = { fileId: 's3://b/del', version: 'v1', index: 0 };
      const b = { ...a, index: 1 };
      await store.put(a, Buffer.from('aaa'));
      await store.put(b, Buffer.from('bb'));
      await store.delete(a);
      assert.equal(store.has(a), false);
      assert.equal(await store.get(a), undefined);
      await store.delete(a);
      await store.delete({ ...a, fileId: 'never-put' });
      assert.equal((await store.get(b))?.toString(), 'bb');
      assert.equal(store.stats().pages, copies);
      assert.equal(store.stats().bytes, 2 * copies);
    });

    it('deleteFile drops every version except keepVersion and returns how many pages it dropped', async () => {
      const store = await fresh();
      const f = 's3://b/file';
      const keys = [
        ...[0, 1, 2].map((index) => ({ fileId: f, version: 'v1', index })),
        ...[0, 1].map((index) => ({ fileId: f, version: 'v2', index })),
        { fileId: 's3://b/other', version: 'v1', index: 0 },
      ];
      for (const k of keys) assert.equal(await store.put(k, Buffer.from(`${k.version}/${k.index}`)), true);
      assert.equal(await store.deleteFile(f, { keepVersion: 'v2' }), 3 * copies);
      assert.deepEqual(keys.map((k) => store.has(k)), [false, false, false, true, true, true]);
      assert.equal((await store.get({ fileId: f, version: 'v2', index: 1 }))?.toString(), 'v2/1');
      assert.equal(await store.deleteFile(f), 2 * copies);
      assert.equal(await store.deleteFile(f), 0);
      assert.equal(await store.deleteFile('s3://b/never-cached'), 0);
      assert.deepEqual(keys.map((k) => store.has(k)), [false, false, false, false, false, true]);
      assert.equal(store.stats().pages, copies);
    });

    it('files(prefix) names the files held under a prefix with their pages and bytes, all versions counted', async () => {
      const store = await fresh();
      const puts: Array<[string, string, number, number]> = [
        ['s3://b/dir/a', 'v1', 0, 10],
        ['s3://b/dir/a', 'v1', 7, 3],
        ['s3://b/dir/a', 'v2', 0, 5],
        ['s3://b/dir/sub/b', 'v1', 2, 100],
        ['s3://b/dirt', 'v1', 0, 1],
        ['file:///dir/a', 'v1', 0, 1],
      ];
      for (const [fileId, version, index, size] of puts) assert.equal(await store.put({ fileId, version, index }, randomBytes(size)), true);
      const byId = (prefix: string): Record<string, [number, number]> => Object.fromEntries(store.files(prefix).map((f) => [f.fileId, [f.pages, f.bytes]]));
      assert.deepEqual(byId('s3://b/dir/'), { 's3://b/dir/a': [3 * copies, 18 * copies], 's3://b/dir/sub/b': [copies, 100 * copies] });
      assert.deepEqual(Object.keys(byId('')).sort(), ['file:///dir/a', 's3://b/dir/a', 's3://b/dir/sub/b', 's3://b/dirt']);
      assert.deepEqual(byId('s3://b/none/'), {});
      await store.deleteFile('s3://b/dir/a');
      assert.deepEqual(Object.keys(byId('s3://b/dir')).sort(), ['s3://b/dir/sub/b', 's3://b/dirt']);
    });

    it('pages of different versions and of look-alike file ids never mix', async () => {
      const store = await fresh();
      const fileIds = ['s3://b/a', 's3://b/a/', 's3://b/a b', 's3://b/ä', 's3://b/a:1', 'file:///x/a\u0000nul', 's3://b/A'];
      const versions = ['v1', 'v10', '"etag-1"', ''];
      const keys = fileIds.flatMap((fileId) => versions.map((version) => ({ fileId, version, index: 1 })));
      const content = (k: PageKey): Buffer => Buffer.from(JSON.stringify(k));
      for (const k of keys) assert.equal(await store.put(k, content(k)), true);
      for (const k of keys) assert.ok((await store.get(k))?.equals(content(k)), JSON.stringify(k));
      assert.equal(await store.deleteFile('s3://b/a', { keepVersion: 'v10' }), 3 * copies);
      for (const k of keys) {
        const gone = k.fileId === 's3://b/a' && k.version !== 'v10';
        assert.equal(store.has(k), !gone, JSON.stringify(k));
      }
    });

    it('bytes never exceed capacity during and after 2,000 concurrent puts of random sizes', async () => {
      const store = await fresh(1024 * KiB);
      const capacity = store.capacityBytes;
      const random = seeded(20_240_601);
      const pages = Array.from({ length: 400 }, (_, i) => ({
        key: { fileId: `s3://b/random-${i % 40}`, version: `v${Math.floor(i / 40) % 2}`, index: Math.floor(i / 80) },
        data: randomBytes(1 + Math.floor(random() * 32 * KiB)),
      }));
      let samples = 0;
      const overs: number[] = [];
      const check = (): void => {
        samples++;
        const { bytes } = store.stats();
        if (bytes > capacity) overs.push(bytes);
      };
      const sampler = setInterval(check, 1);
      const results: boolean[] = [];
      try {
        await inParallel(Array.from({ length: 2000 }, () => pages[Math.floor(random() * pages.length)]!), 16, async (page) => {
          results.push(await store.put(page.key, page.data));
          check();
        });
      } finally {
        clearInterval(sampler);
      }
      assert.deepEqual(overs, [], `bytes above ${capacity} in ${overs.length} of ${samples} samples`);
      assert.equal(results.filter((r) => !r).length, 0, 'every put of a page that fits succeeds');
      let present = 0;
      for (const { key, data } of pages) {
        if (!store.has(key)) continue;
        present++;
        assert.ok((await store.get(key))?.equals(data), `content of ${JSON.stringify(key)}`);
      }
      assert.ok(present > 0 && store.stats().evictions > 0);
      assert.ok(store.stats().bytes <= capacity);
    });

    it('evicts the least recently used page first; a page read since it was put keeps its place', async () => {
      const store = await fresh(64 * KiB);
      const size = 4 * KiB;
      const key = (index: number): PageKey => ({ fileId: 's3://b/lru', version: 'v1', index });
      const total = Math.ceil((3 * store.capacityBytes) / size);
      await store.put(key(0), randomBytes(size));
      await store.put(key(1), randomBytes(size));
      for (let i = 2; i < total; i++) {
        assert.equal(await store.put(key(i), randomBytes(size)), true);
        assert.ok(await store.get(key(0), { length: 1 }), `page 0, read after every put, is still there after page ${i}`);
      }
      assert.equal(store.has(key(1)), false, 'page 1, never read, went first');
      const present = Array.from({ length: total - 2 }, (_, i) => store.has(key(i + 2)));
      const firstPresent = present.indexOf(true);
      assert.ok(firstPresent > 0, 'the oldest pages were evicted');
      assert.ok(present.slice(firstPresent).every(Boolean), `only the most recent pages remain: ${present.map(Number).join('')}`);
    });

    it('touch() keeps a page like a read does, when the store has it', async (t) => {
      const store = await fresh(64 * KiB);
      if (store.touch === undefined) return t.skip('the store has no touch()');
      const key = (index: number): PageKey => ({ fileId: 's3://b/touch', version: 'v1', index });
      for (let i = 0; i < 40; i++) {
        await store.put(key(i), randomBytes(4 * KiB));
        store.touch(key(0));
      }
      assert.equal(store.has(key(0)), true);
      assert.equal(store.has(key(1)), false);
      store.touch(key(1)); // absent: a no-op
    });

    it('refuses a page larger than its capacity and stores nothing', async () => {
      const store = await fresh(16 * KiB);
      const key = { fileId: 's3://b/big', version: 'v1', index: 0 };
      await store.put({ ...key, index: 1 }, Buffer.from('small'));
      assert.equal(await store.put(key, randomBytes(store.capacityBytes + 1)), false);
      assert.equal(store.has(key), false);
      assert.equal(await store.get(key), undefined);
      assert.equal(store.has({ ...key, index: 1 }), true, 'a refused page evicts nothing');
      assert.equal(store.stats().pages, copies);
    });

    it('stats() counts pages and bytes exactly, and each eviction', async () => {
      const store = await fresh(64 * KiB);
      assert.deepEqual(store.stats(), { ...store.stats(), pages: 0, bytes: 0, evictions: 0, capacityBytes: store.capacityBytes });
      const sizes = [1, 100, 1000, 0, 4096];
      const keys = sizes.map((_, index) => ({ fileId: 's3://b/stats', version: 'v1', index }));
      for (const [i, k] of keys.entries()) await store.put(k, randomBytes(sizes[i]!));
      assert.equal(store.stats().pages, sizes.length * copies);
      assert.equal(store.stats().bytes, 5197 * copies);
      await store.delete(keys[2]!);
      assert.equal(store.stats().bytes, 4197 * copies);
      const before = store.stats().pages;
      const dropped = await store.deleteFile('s3://b/stats');
      assert.equal(dropped, before - store.stats().pages);
      assert.deepEqual([store.stats().pages, store.stats().bytes, store.stats().evictions], [0, 0, 0]);

      const size = 8 * KiB;
      const many = Array.from({ length: 20 }, (_, index) => ({ fileId: 's3://b/evict', version: 'v1', index }));
      for (const k of many) assert.equal(await store.put(k, randomBytes(size)), true);
      const { pages, bytes, evictions } = store.stats();
      assert.equal(bytes, pages * size);
      assert.equal(evictions, many.length * copies - pages, 'every page put and not present was evicted');
      const present = many.filter((k) => store.has(k)).length;
      assert.ok(present <= pages && pages <= present * copies);
    });

    it('rejects a negative or fractional offset or length, and a page index out of range, with INVALID_ARGUMENT', async () => {
      const store = await fresh();
      const key = { fileId: 's3://b/args', version: 'v1', index: 0 };
      await store.put(key, Buffer.from('abc'));
      await rejectsInvalid(store.put({ ...key, index: -1 }, Buffer.from('x')));
      await rejectsInvalid(store.get({ ...key, index: 1.5 }));
      await rejectsInvalid(store.get({ ...key, index: 2 ** 32 - 1 }));
      await rejectsInvalid(store.get(key, { offset: -1 }));
      await rejectsInvalid(store.get(key, { length: 0.5 }));
      await rejectsInvalid(store.get({ ...key, index: 7 }, { offset: -1 }));
    });

    it('gets racing evictions return the right bytes or a miss, never other bytes', async () => {
      const store = await fresh(32 * KiB);
      const random = seeded(7);
      const pages = Array.from({ length: 64 }, (_, i) => ({
        key: { fileId: `s3://b/race-${i % 4}`, version: 'v1', index: Math.floor(i / 4) },
        data: randomBytes(4 * KiB),
      }));
      await inParallel(Array.from({ length: 800 }, (_, i) => i), 16, async () => {
        const page = pages[Math.floor(random() * pages.length)]!;
        if (random() < 0.4) {
          await store.put(page.key, page.data);
          return;
        }
        const offset = Math.floor(random() * 5 * KiB);
        const got = await store.get(page.key, { offset, length: 1000 });
        if (got !== undefined) assert.ok(got.equals(page.data.subarray(offset, offset + 1000)), `bytes of ${JSON.stringify(page.key)}`);
      });
    });

    it('keeps its pages across close and reopen', async (t) => {
      if (fixture.reopen === undefined) return t.skip('pages of this store do not survive a restart');
      let store = await fresh(64 * KiB);
      const keys = [0, 1, 2].map((index) => ({ fileId: `s3://b/persist-${index % 2}`, version: 'v1', index }));
      const data = keys.map(() => randomBytes(3 * KiB));
      for (const [i, k] of keys.entries()) await store.put(k, data[i]!);
      store = await fixture.reopen(store);
      opened.push(store);
      for (const [i, k] of keys.entries()) {
        assert.equal(store.has(k), true);
        assert.ok((await store.get(k, { offset: 1 }))?.equals(data[i]!.subarray(1)));
      }
      const before = store.stats().pages;
      const dropped = await store.deleteFile('s3://b/persist-0');
      assert.ok(dropped >= 2, 'the per-file index was rebuilt');
      assert.equal(dropped, before - store.stats().pages);
      assert.deepEqual(keys.map((k) => store.has(k)), [false, true, false]);
    });

    it('reports a corrupted page as a miss and drops it', async (t) => {
      if (fixture.corrupt === undefined) return t.skip('this store does not checksum its pages');
      const store = await fresh();
      const bad = { fileId: 's3://b/corrupt', version: 'v1', index: 0 };
      const good = { ...bad, index: 1 };
      const data = randomBytes(2 * KiB);
      await store.put(bad, data);
      await store.put(good, data);
      await fixture.corrupt(store, bad);
      assert.equal(await store.get(bad, { offset: 0, length: 1 }), undefined);
      assert.equal(store.has(bad), false);
      assert.equal(await store.get(bad), undefined);
      assert.ok((await store.get(good))?.equals(data));
      assert.equal(await store.put(bad, data), true, 'the page can be cached again');
      assert.ok((await store.get(bad))?.equals(data));
    });
  });
}

async function rejectsInvalid(promise: Promise<unknown>): Promise<void> {
  const error = await rejectsWith(promise, 'INVALID_ARGUMENT');
  assert.match(error.message, /^Cannot /, 'messages say what was attempted');
}

/** A small deterministic generator (mulberry32), so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function inParallel<T>(items: readonly T[], limit: number, run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await run(items[next++] as T);
  }));
}
