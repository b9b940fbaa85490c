import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RingMember, WorkerSelector, WorkerSelectorFactory } from '../hash/worker-selector.js';

/** A member with more than an id, to check that selectors hand back the objects they were given. */
interface TestWorker extends RingMember {
  readonly address: string;
}

const KEYS = 100_000;

/** Keys shaped like the store URIs clients hash. */
function keyAt(i: number): string {
  return `s3://bucket/data/${i % 97}/part-${i}.parquet`;
}

function workers(ids: readonly string[]): TestWorker[] {
  return ids.map((id, i) => ({ id, address: `http://10.0.0.${i + 1}:29999` }));
}

/** Uuid-shaped ids, the same on every run. */
function uuids(n: number, seed: string): string[] {
  return Array.from({ length: n }, (_, i) => {
    const h = createHash('md5').update(`${seed}/${i}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  });
}

/** Several id sets, so a property holds for ids in general and not for one lucky set. */
const ID_SETS: readonly (readonly [string, readonly string[]])[] = [
  ['worker-0..worker-9', Array.from({ length: 10 }, (_, i) => `worker-${i}`)],
  ['10 uuids', uuids(10, 'first')],
  ['10 more uuids', uuids(10, 'second')],
  ['10 host:port ids', Array.from({ length: 10 }, (_, i) => `10.0.${i}.17:29999`)],
];

/** A shuffle that is the same on every run (mulberry32 as the generator). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function ownerIds(selector: WorkerSelector<RingMember>, keys: number, count = 1): string[] {
  return Array.from({ length: keys }, (_, i) => selector.owners(keyAt(i), count).map((m) => m.id).join(' '));
}

function tally(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Every behaviour of the WorkerSelector contract, run unchanged by every implementation. */
export function runWorkerSelectorConformance(name: string, create: WorkerSelectorFactory): void {
  describe(`WorkerSelector conformance: ${name}`, () => {
    // The owner of each of the KEYS keys per id set, shared by the tests that need it.
    const computed = new Map<string, string[]>();
    const primaryOwners = (ids: readonly string[]): string[] => {
      const known = computed.get(ids.join(' '));
      if (known !== undefined) return known;
      const owners = ownerIds(create(workers(ids)), KEYS);
      computed.set(ids.join(' '), owners);
      return owners;
    };

    it('owners() gives the same workers for the same key whatever order the workers are listed in', () => {
      ID_SETS.forEach(([label, ids], n) => {
        const listed = workers(ids);
        const selector = create(listed);
        const expected = ownerIds(selector, 5_000, 3);
        assert.deepEqual(ownerIds(selector, 5_000, 3), expected, `${label}: the same selector asked twice`);
        for (const order of [[...listed].reverse(), shuffled(listed, n + 1)]) {
          assert.deepEqual(ownerIds(create(order), 5_000, 3), expected, `${label}, listed as ${order.map((w) => w.id).join(',')}`);
        }
      });
    });

    it('members lists each worker once in id order, and owners() returns those same objects', () => {
      const listed = shuffled(workers(ID_SETS[1]![1]), 3);
      const given = [...listed];
      const selector = create(given);
      given.length = 0; // the selector keeps its own list
      assert.deepEqual(selector.members.map((m) => m.id), listed.map((w) => w.id).sort());
      for (let i = 0; i < 1_000; i++) {
        for (const owner of selector.owners(keyAt(i), 3)) assert.ok(listed.includes(owner), `owner ${owner.id} is one of the given objects`);
      }
    });

    it(`with 10 workers and ${KEYS.toLocaleString('en')} keys the busiest worker holds at most 10% more keys than the mean`, (t) => {
      for (const [label, ids] of ID_SETS) {
        const counts = tally(primaryOwners(ids));
        assert.deepEqual([...counts.keys()].sort(), [...ids].sort(), `${label}: every worker owns some keys`);
        const ratio = Math.max(...counts.values()) / (KEYS / ids.length);
        t.diagnostic(`${label}: busiest/mean ${ratio.toFixed(3)}, idlest/mean ${(Math.min(...counts.values()) / (KEYS / ids.length)).toFixed(3)}`);
        assert.ok(ratio <= 1.1, `${label}: the busiest worker holds ${ratio.toFixed(3)} × the mean`);
      }
    });

    it('adding an 11th worker moves about 1/11 of the keys, every one of them to the new worker', (t) => {
      for (const [label, ids] of ID_SETS.slice(0, 3)) {
        const before = primaryOwners(ids);
        const after = ownerIds(create(workers([...ids, 'worker-added'])), KEYS);
        let moved = 0;
        for (let i = 0; i < KEYS; i++) {
          if (after[i] === before[i]) continue;
          moved++;
          assert.equal(after[i], 'worker-added', `${label}: ${keyAt(i)} moved from ${before[i]} to ${after[i]}, not to the new worker`);
        }
        const share = moved / KEYS;
        t.diagnostic(`${label}: adding one worker moved ${(share * 100).toFixed(2)}% of keys (1/11 = 9.09%)`);
        assert.ok(Math.abs(share * 11 - 1) <= 0.3, `${label}: ${(share * 100).toFixed(2)}% of keys moved`);
      }
    });

    it('removing one of 10 workers moves only its keys, about 1/10, spread over the other workers', (t) => {
      for (const [label, ids] of ID_SETS.slice(0, 3)) {
        const removed = ids[3]!;
        const before = primaryOwners(ids);
        const after = ownerIds(create(workers(ids.filter((id) => id !== removed))), KEYS);
        const receivers: string[] = [];
        for (let i = 0; i < KEYS; i++) {
          if (before[i] === removed) receivers.push(after[i]!);
          else assert.equal(after[i], before[i], `${label}: ${keyAt(i)} moved from ${before[i]} to ${after[i]}, though its worker stayed`);
        }
        const share = receivers.length / KEYS;
        const busiestReceiver = Math.max(...tally(receivers).values()) / receivers.length;
        t.diagnostic(`${label}: removing one worker moved ${(share * 100).toFixed(2)}% of keys (1/10 = 10%); the busiest receiver took ${(busiestReceiver * 100).toFixed(1)}% of them`);
        assert.ok(Math.abs(share * 10 - 1) <= 0.3, `${label}: ${(share * 100).toFixed(2)}% of keys moved`);
        assert.equal(tally(receivers).size, ids.length - 1, `${label}: every remaining worker takes some of the keys`);
        assert.ok(busiestReceiver <= 2 / (ids.length - 1), `${label}: one worker took ${(busiestReceiver * 100).toFixed(1)}% of the moved keys`);
      }
    });

    it('owners(key, 3) gives 3 distinct workers, starts with owners(key), and begins owners(key, 10)', () => {
      const selector = create(workers(ID_SETS[1]![1]));
      for (let i = 0; i < 10_000; i++) {
        const key = keyAt(i);
        const three = selector.owners(key, 3).map((m) => m.id);
        assert.equal(new Set(three).size, 3, `owners of ${key}: ${three.join(', ')}`);
        assert.equal(three[0], selector.owners(key)[0]?.id, key);
        assert.deepEqual(selector.owners(key, 10).slice(0, 3).map((m) => m.id), three, key);
      }
    });

    it('replicas are stable: removing or adding a worker leaves the other owners of every key in the same order', () => {
      for (const [label, ids] of ID_SETS.slice(0, 3)) {
        const all = ids.length + 1;
        const full = ownerIds(create(workers(ids)), 2_000, all).map((list) => list.split(' '));
        for (const removed of [ids[0]!, ids[7]!]) {
          const after = ownerIds(create(workers(ids.filter((id) => id !== removed))), 2_000, all);
          after.forEach((list, i) => assert.equal(list, full[i]!.filter((id) => id !== removed).join(' '), `${label} without ${removed}: ${keyAt(i)}`));
        }
        const grown = ownerIds(create(workers([...ids, 'worker-added'])), 2_000, all);
        grown.forEach((list, i) => {
          const kept = list.split(' ').filter((id) => id !== 'worker-added');
          assert.equal(kept.join(' '), full[i]!.join(' '), `${label} with a worker added: ${keyAt(i)}`);
        });
      }
    });

    it('owners() with a count above the number of workers returns every worker once', () => {
      const selector = create(workers(['a', 'b', 'c']));
      for (let i = 0; i < 1_000; i++) {
        const owners = selector.owners(keyAt(i), 5).map((m) => m.id);
        assert.deepEqual([...owners].sort(), ['a', 'b', 'c'], keyAt(i));
        assert.deepEqual(selector.owners(keyAt(i), 3).map((m) => m.id), owners, keyAt(i));
      }
      const alone = create(workers(['only']));
      for (let i = 0; i < 1_000; i++) assert.deepEqual(alone.owners(keyAt(i), 3).map((m) => m.id), ['only']);
    });

    it('owners() over no workers throws UNAVAILABLE', () => {
      const selector = create<TestWorker>([]);
      assert.deepEqual(selector.members, []);
      for (const count of [1, 3]) {
        assert.throws(() => selector.owners('s3://bucket/k', count), { name: 'DoraError', code: 'UNAVAILABLE', retryable: true });
      }
    });

    it('owners() refuses a count that is not a whole number ≥ 1 with INVALID_ARGUMENT', () => {
      const selector = create(workers(['a', 'b']));
      for (const count of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        assert.throws(() => selector.owners('s3://bucket/k', count), { name: 'DoraError', code: 'INVALID_ARGUMENT' }, `count ${count}`);
      }
    });

    it('a worker set with a repeated id is refused with INVALID_ARGUMENT', () => {
      assert.throws(() => create(workers(['a', 'b', 'a'])), { name: 'DoraError', code: 'INVALID_ARGUMENT', message: /"a"/ });
    });

    it('1,000,000 lookups over 10 workers take well under a few seconds', (t) => {
      const selector = create(workers(ID_SETS[1]![1]));
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      let checksum = 0;
      for (let i = 0; i < 1_000_000; i++) checksum += selector.owners(keyAt(i))[0]!.id.length;
      const cpu = process.cpuUsage(cpuStart);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const ms = performance.now() - start;
      t.diagnostic(`1,000,000 lookups took ${ms.toFixed(0)} ms (${cpuMs.toFixed(0)} ms of CPU): ${(ms / 1000).toFixed(2)} µs each`);
      assert.equal(checksum, 36_000_000);
      // Typically under a second. CPU time, not wall time, so other processes on a busy machine do
      // not fail it; the bound still fails a selector that scans its members or points per lookup.
      assert.ok(cpuMs < 3_000, `1,000,000 lookups took ${cpuMs.toFixed(0)} ms of CPU`);
    });
  });
}
