import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LruPolicy } from './lru-policy.js';
import { PageIndex } from './page-index.js';
import type { PageKey } from './page-store.js';

const index = (): PageIndex<number> => new PageIndex<number>(new LruPolicy(), (bytes) => bytes);
const key = (i: number, version = 'v1', fileId = 's3://b/k'): PageKey => ({ fileId, version, index: i });

describe('PageIndex', () => {
  it('counts pages and bytes exactly, replacing a page without counting it twice', () => {
    const pages = index();
    pages.add(key(0), 10);
    pages.add(key(1), 20);
    pages.add(key(0), 15);
    assert.deepEqual([pages.pages, pages.bytes], [2, 35]);
    assert.equal(pages.remove(key(0)), 15);
    assert.equal(pages.remove(key(0)), undefined);
    assert.deepEqual([pages.pages, pages.bytes], [1, 20]);
  });

  it('victim() names the least recently used page by its full key', () => {
    const pages = index();
    pages.add(key(3, 'v1', 's3://b/a'), 1);
    pages.add(key(7, 'v2', 's3://b/b'), 1);
    pages.touch(key(3, 'v1', 's3://b/a'));
    assert.deepEqual(pages.victim(), key(7, 'v2', 's3://b/b'));
    pages.touch(key(99)); // absent: a no-op
  });

  it('removeFile() drops every version but the kept one, wherever it sits in the chain of versions', () => {
    const pages = index();
    for (const version of ['v1', 'v2', 'v3']) for (const i of [0, 1]) pages.add(key(i, version), 1);
    pages.add(key(0, 'v1', 's3://b/other'), 1);
    const dropped = pages.removeFile('s3://b/k', 'v2');
    assert.deepEqual(dropped.map(([k]) => `${k.version}/${k.index}`).sort(), ['v1/0', 'v1/1', 'v3/0', 'v3/1']);
    assert.deepEqual([pages.has(key(0, 'v2')), pages.has(key(1, 'v2')), pages.has(key(0, 'v1', 's3://b/other'))], [true, true, true]);
    pages.remove(key(0, 'v2'));
    pages.remove(key(1, 'v2'));
    assert.equal(pages.hasGroup('s3://b/k', 'v2'), false);
    assert.deepEqual(pages.removeFile('s3://b/k'), []);
    assert.equal(pages.pages, 1);
  });

  it('drops a version from the middle of the chain and still finds the others', () => {
    const pages = index();
    for (const version of ['v1', 'v2', 'v3']) pages.add(key(0, version), 1);
    pages.remove(key(0, 'v2'));
    assert.deepEqual(['v1', 'v2', 'v3'].map((v) => pages.has(key(0, v))), [true, false, true]);
    pages.remove(key(0, 'v3'));
    pages.remove(key(0, 'v1'));
    assert.equal(pages.pages, 0);
    assert.equal(pages.victim(), undefined);
  });

  it('handles sparse page indexes without walking the gaps', () => {
    const pages = index();
    const far = 2 ** 32 - 2;
    pages.add(key(0), 1);
    pages.add(key(far), 2);
    pages.add(key(1_000_000), 3);
    assert.equal(pages.get(key(far)), 2);
    pages.remove(key(far));
    pages.add(key(far), 4);
    const start = performance.now();
    assert.equal(pages.removeFile('s3://b/k').length, 3);
    assert.ok(performance.now() - start < 50);
    assert.deepEqual([pages.pages, pages.bytes], [0, 0]);
  });

  it('costs a few hundred heap bytes per page at most (bench/page-index-bench.ts measures it)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = async (): Promise<number> => {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      return process.memoryUsage().heapUsed;
    };
    const n = 20_000;
    const before = await heap();
    const pages = index();
    for (let i = 0; i < n; i++) pages.add(key(i % 10, `"${Math.floor(i / 10)}"`, `s3://bucket/dataset/part-${Math.floor(i / 10)}.parquet`), 1 << 20);
    const perPage = ((await heap()) - before) / n;
    assert.equal(pages.pages, n);
    assert.ok(perPage < 600, `${perPage.toFixed(0)} bytes per page`); // about 170 with 10 pages per file
  });
});
