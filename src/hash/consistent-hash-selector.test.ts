import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runWorkerSelectorConformance } from '../testing/worker-selector-conformance.js';
import { ConsistentHashSelector } from './consistent-hash-selector.js';

runWorkerSelectorConformance('ConsistentHashSelector', (members) => new ConsistentHashSelector(members));

const workers = (n: number): { id: string }[] => Array.from({ length: n }, (_, i) => ({ id: `worker-${i}` }));

describe('ConsistentHashSelector', () => {
  it('places keys where every earlier build did: the ring is a format shared by all clients', () => {
    // Clients of different versions (or languages) share a cluster: changing the hash, the point
    // labels or the default number of points moves keys between them. Change these only on purpose.
    // (Checked against an independent Python build of the same ring: hashlib.md5, bisect.)
    const selector = new ConsistentHashSelector(workers(5));
    const placements = ['', 's3://bucket/a', 'file:///srv/data/x.csv', 's3://bucket/été/naïve.txt', 's3://b/😀'].map((key) => selector.owners(key, 5).map((m) => m.id));
    assert.deepEqual(placements, [
      ['worker-0', 'worker-1', 'worker-2', 'worker-3', 'worker-4'],
      ['worker-2', 'worker-1', 'worker-3', 'worker-4', 'worker-0'],
      ['worker-1', 'worker-4', 'worker-3', 'worker-0', 'worker-2'],
      ['worker-4', 'worker-3', 'worker-2', 'worker-1', 'worker-0'],
      ['worker-1', 'worker-0', 'worker-2', 'worker-4', 'worker-3'],
    ]);
  });

  it('with one virtual node a worker, replicas are still distinct and keep their order when a worker leaves', () => {
    const few = new ConsistentHashSelector(workers(4), { virtualNodes: 1 });
    const keys = Array.from({ length: 1_000 }, (_, i) => `s3://b/${i}`);
    for (const key of keys) assert.equal(new Set(few.owners(key, 4).map((m) => m.id)).size, 4);
    const fewer = new ConsistentHashSelector(workers(3), { virtualNodes: 1 });
    for (const key of keys) {
      assert.deepEqual(fewer.owners(key, 3).map((m) => m.id), few.owners(key, 4).map((m) => m.id).filter((id) => id !== 'worker-3'));
    }
  });

  it('refuses a virtual node count that is not a whole number from 1 to 65,536', () => {
    for (const virtualNodes of [0, -1, 1.5, Number.NaN, 65_537]) {
      assert.throws(() => new ConsistentHashSelector(workers(2), { virtualNodes }), { code: 'INVALID_ARGUMENT', message: /virtual nodes/ }, `${virtualNodes}`);
    }
    assert.equal(new ConsistentHashSelector(workers(2), { virtualNodes: 65_536 }).members.length, 2);
    assert.equal(ConsistentHashSelector.defaultVirtualNodes, 2_000);
  });

  it('holds up to 65,536 workers and refuses more', () => {
    const many = (n: number): { id: string }[] => Array.from({ length: n }, (_, i) => ({ id: `w${i}` }));
    assert.throws(() => new ConsistentHashSelector(many(65_537), { virtualNodes: 1 }), { code: 'INVALID_ARGUMENT', message: /at most 65536/ });
    const largest = new ConsistentHashSelector(many(65_536), { virtualNodes: 1 });
    const everyone = largest.owners('s3://b/k', 65_536);
    assert.equal(new Set(everyone).size, 65_536);
    assert.equal(new Set(everyone.map((m) => m.id)).size, 65_536);
  });
});
