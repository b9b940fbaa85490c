import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LocalWorker, LocalWorkerCache } from '../src/testing/local-cluster.js';

/** Polls `condition` every 50 ms; fails the test naming `what` after `timeoutMs`. */
export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`Not true after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Each worker's cache summary, by id. */
export async function caches(workers: readonly LocalWorker[]): Promise<Map<string, LocalWorkerCache>> {
  return new Map(await Promise.all(workers.map(async (w) => [w.id, await w.cache()] as const)));
}

/** A stream read on demand, only as far as asked, hashing what arrived. */
export function pausedRead(source: AsyncIterable<Uint8Array>): { readAtLeast(bytes: number): Promise<void>; finish(): Promise<string>; received(): number } {
  const chunks = source[Symbol.asyncIterator]();
  const hash = createHash('sha256');
  let received = 0;
  const pull = async (until: number): Promise<void> => {
    while (received < until) {
      const next = await chunks.next();
      if (next.done === true) return;
      hash.update(next.value);
      received += next.value.byteLength;
    }
  };
  return {
    readAtLeast: (bytes) => pull(bytes),
    received: () => received,
    async finish() {
      await pull(Infinity);
      return hash.digest('hex');
    },
  };
}
