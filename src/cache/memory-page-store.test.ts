import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPageStoreConformance } from '../testing/page-store-conformance.js';
import type { EvictionPolicy } from './eviction-policy.js';
import { MemoryPageStore } from './memory-page-store.js';

runPageStoreConformance('MemoryPageStore', {
  create: async (capacityBytes) => new MemoryPageStore({ capacityBytes }),
});

const key = (index: number, fileId = 's3://b/k'): { fileId: string; version: string; index: number } => ({ fileId, version: 'v1', index });

describe('MemoryPageStore', () => {
  it('get() returns views of one held copy, not copies', async () => {
    const store = new MemoryPageStore({ capacityBytes: 1024 });
    await store.put(key(0), Buffer.from('0123456789'));
    const whole = await store.get(key(0));
    const part = await store.get(key(0), { offset: 3, length: 4 });
    assert.ok(whole !== undefined && part !== undefined);
    assert.equal(part.buffer, whole.buffer);
    assert.equal(part.byteOffset, whole.byteOffset + 3);
    assert.equal(part.toString(), '3456');
  });

  it('put() keeps its own copy: the caller may reuse its buffer, and a slice does not pin the larger buffer', async () => {
    const store = new MemoryPageStore({ capacityBytes: 1024 });
    const big = Buffer.alloc(64 * 1024, 'a');
    await store.put(key(0), big.subarray(100, 110));
    big.fill('b');
    const held = await store.get(key(0));
    assert.equal(held?.toString(), 'aaaaaaaaaa');
    assert.equal(held?.buffer.byteLength, 10, 'the held copy is exactly the page');
  });

  it('a page of exactly the capacity evicts every other page', async () => {
    const store = new MemoryPageStore({ capacityBytes: 100 });
    await store.put(key(0), Buffer.alloc(40));
    await store.put(key(1), Buffer.alloc(40));
    assert.equal(await store.put(key(2), Buffer.alloc(100)), true);
    assert.deepEqual([store.has(key(0)), store.has(key(1)), store.has(key(2))], [false, false, true]);
    assert.deepEqual(store.stats(), { pages: 1, bytes: 100, capacityBytes: 100, evictions: 2 });
  });

  it('evicts by the policy it is given', async () => {
    const calls: string[] = [];
    // Most recently used first: the opposite of the default.
    const mru = (): EvictionPolicy => {
      const order: string[] = [];
      return {
        add: (k) => { calls.push(`add ${k}`); order.push(k); },
        touch: (k) => { const i = order.indexOf(k); if (i >= 0) order.push(...order.splice(i, 1)); },
        remove: (k) => { const i = order.indexOf(k); if (i >= 0) order.splice(i, 1); },
        victim: () => order.at(-1),
        get size() { return order.length; },
      };
    };
    const store = new MemoryPageStore({ capacityBytes: 30, policy: mru });
    for (const i of [0, 1, 2]) await store.put(key(i), Buffer.alloc(10));
    await store.put(key(3), Buffer.alloc(10));
    assert.deepEqual([0, 1, 2, 3].map((i) => store.has(key(i))), [true, true, false, true]);
    assert.equal(calls.length, 4);
  });

  it('deleteFile() costs the pages of that file, not of the whole cache', async () => {
    const store = new MemoryPageStore({ capacityBytes: 1 << 30 });
    const page = Buffer.alloc(1);
    for (let i = 0; i < 100_000; i++) await store.put(key(i % 10, `s3://b/many-${Math.floor(i / 10)}`), page);
    const start = performance.now();
    for (let f = 0; f < 2_000; f++) assert.equal(await store.deleteFile(`s3://b/many-${f}`), 10);
    const ms = performance.now() - start;
    assert.equal(store.stats().pages, 80_000);
    // A scan of the whole index per call would take seconds here.
    assert.ok(ms < 500, `2,000 deleteFile() calls took ${ms.toFixed(0)} ms`);
  });

  it('close() drops every page', async () => {
    const store = new MemoryPageStore({ capacityBytes: 100 });
    await store.put(key(0), Buffer.alloc(10));
    await store.close();
    assert.deepEqual([store.stats().pages, store.stats().bytes, store.has(key(0))], [0, 0, false]);
  });

  it('refuses a capacity that is not a whole number ≥ 0', () => {
    assert.throws(() => new MemoryPageStore({ capacityBytes: -1 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new MemoryPageStore({ capacityBytes: 1.5 }), { code: 'INVALID_ARGUMENT' });
  });
});
