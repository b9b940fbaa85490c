import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareKeys, listingKey } from '../ufs-path.js';
import { compareHdfsNames } from './hdfs-client.js';
import { HdfsReorder } from './hdfs-order.js';

interface Entry {
  readonly path: string;
  readonly kind: 'file' | 'directory';
}

/** Feeds entries in HDFS's order, `page` at a time, and collects what the reorder releases. */
function reorder(entries: readonly Entry[], page: number): { out: string[]; mostHeld: number } {
  const hdfsOrder = [...entries].sort((a, b) => compareHdfsNames(a.path, b.path));
  const r = new HdfsReorder<Entry>();
  const out: string[] = [];
  let mostHeld = 0;
  for (let i = 0; i < hdfsOrder.length; i += page) {
    for (const e of hdfsOrder.slice(i, i + page)) r.add(e.path, { key: listingKey(e), entry: e });
    mostHeld = Math.max(mostHeld, r.size);
    out.push(...r.release(i + page >= hdfsOrder.length).map(listingKey));
  }
  return { out, mostHeld };
}

function expected(entries: readonly Entry[]): string[] {
  return entries.map(listingKey).sort(compareKeys);
}

/** A pseudo-random generator with a seed, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

describe('HdfsReorder', () => {
  it('orders names HDFS sorts as signed bytes the way dora does, a directory as name/', () => {
    const entries: Entry[] = [
      { path: 'sub', kind: 'directory' }, { path: 'sub-x', kind: 'file' }, { path: 'sub.y', kind: 'file' }, { path: 'sub0', kind: 'file' },
      { path: 'é', kind: 'file' }, { path: 'e', kind: 'file' }, { path: 'aé', kind: 'directory' }, { path: 'az', kind: 'file' }, { path: '😀', kind: 'file' },
    ];
    assert.deepEqual(entries.map((e) => e.path).sort(compareHdfsNames).slice(0, 2), ['é', '😀'], 'HDFS puts non-ASCII first');
    for (const page of [1, 2, 3, 100]) assert.deepEqual(reorder(entries, page).out, expected(entries), `pages of ${page}`);
  });

  it('matches a full sort for random names of every kind of byte, at every page size', () => {
    const alphabet = ['a', 'b', '-', '.', '0', '_', ' ', 'é', 'ü', '日', '😀', '\u007f'];
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const names = new Set<string>();
      const count = 1 + Math.floor(next() * 40);
      while (names.size < count) names.add(Array.from({ length: 1 + Math.floor(next() * 4) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
      const entries = [...names].map((path): Entry => ({ path, kind: next() < 0.3 ? 'directory' : 'file' }));
      const page = 1 + Math.floor(next() * 7);
      assert.deepEqual(reorder(entries, page).out, expected(entries), `seed ${seed}, pages of ${page}`);
    }
  });

  it('holds only a few entries of a directory of ASCII names', () => {
    const entries = Array.from({ length: 5000 }, (_, i): Entry => ({ path: `part-${String(i).padStart(5, '0')}`, kind: i % 100 === 0 ? 'directory' : 'file' }));
    const { out, mostHeld } = reorder(entries, 1000);
    assert.deepEqual(out, expected(entries));
    assert.ok(mostHeld <= 1000 + 1, `held ${mostHeld}`);
  });
});
