import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruPolicy } from './lru-policy.js';

describe('LruPolicy', () => {
  it('victim() is the least recently added page and is not removed by asking', () => {
    const lru = new LruPolicy();
    assert.equal(lru.victim(), undefined);
    lru.add('a', 1);
    lru.add('b', 1);
    lru.add('c', 1);
    assert.equal(lru.victim(), 'a');
    assert.equal(lru.victim(), 'a');
    assert.equal(lru.size, 3);
  });

  it('touch() makes a page the most recently used', () => {
    const lru = new LruPolicy();
    for (const k of ['a', 'b', 'c']) lru.add(k, 1);
    lru.touch('a');
    assert.deepEqual(drain(lru), ['b', 'c', 'a']);
  });

  it('add() of a known key counts as a touch, not a second entry', () => {
    const lru = new LruPolicy();
    for (const k of ['a', 'b', 'c']) lru.add(k, 1);
    lru.add('a', 1);
    assert.equal(lru.size, 3);
    assert.deepEqual(drain(lru), ['b', 'c', 'a']);
  });

  it('remove() and touch() of unknown keys are no-ops, and remove() is idempotent', () => {
    const lru = new LruPolicy();
    lru.add('a', 1);
    lru.touch('zzz');
    lru.remove('zzz');
    lru.remove('a');
    lru.remove('a');
    assert.equal(lru.size, 0);
    assert.equal(lru.victim(), undefined);
    lru.add('b', 1);
    assert.deepEqual(drain(lru), ['b']);
  });

  it('removing from the middle keeps the order of the rest', () => {
    const lru = new LruPolicy();
    for (const k of ['a', 'b', 'c', 'd', 'e']) lru.add(k, 1);
    lru.remove('c');
    lru.touch('b');
    lru.remove('e');
    assert.deepEqual(drain(lru), ['a', 'd', 'b']);
  });

  it('touching the newest page leaves the order unchanged', () => {
    const lru = new LruPolicy();
    for (const k of ['a', 'b']) lru.add(k, 1);
    lru.touch('b');
    assert.deepEqual(drain(lru), ['a', 'b']);
  });

  it('evicts in constant time per page with 100,000 pages tracked', () => {
    const lru = new LruPolicy();
    const n = 100_000;
    for (let i = 0; i < n; i++) lru.add(`k${i}`, 1);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const victim = lru.victim();
      assert.ok(victim !== undefined);
      lru.remove(victim);
      lru.add(`k${n + i}`, 1);
      lru.touch(`k${n + i - (i % 1000)}`);
    }
    const ms = performance.now() - start;
    assert.equal(lru.size, n);
    // The Map-insertion-order trick takes about 4 s here; a linked list takes tens of milliseconds.
    assert.ok(ms < 1500, `100,000 evictions took ${ms.toFixed(0)} ms`);
  });
});

function drain(lru: LruPolicy): string[] {
  const out: string[] = [];
  for (let v = lru.victim(); v !== undefined; v = lru.victim()) {
    out.push(v);
    lru.remove(v);
  }
  return out;
}
