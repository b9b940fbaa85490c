import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { DoraError } from '../common/errors.js';
import { ReadAheadStream } from './read-ahead.js';

const CHUNK = 64 * 1024;
const window = { ahead: 1024 * 1024, behind: 256 * 1024 };

/** A stream of `data` from `from` in 64 KiB chunks that counts the bytes it produced. */
function source(data: Buffer, from = 0, failAt?: number): { stream: Readable; produced: () => number } {
  let produced = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = from; at < data.length; at += CHUNK) {
      if (failAt !== undefined && at >= failAt) throw new DoraError('UNAVAILABLE', 'the worker went away');
      await new Promise((resolve) => setImmediate(resolve));
      produced += Math.min(CHUNK, data.length - at);
      yield data.subarray(at, at + CHUNK);
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false, highWaterMark: CHUNK }), produced: () => produced };
}

async function readAt(run: ReadAheadStream, position: number, length: number): Promise<Buffer | undefined> {
  const parts = await run.slices(length, position);
  return parts === undefined ? undefined : Buffer.concat(parts);
}

describe('ReadAheadStream', () => {
  const data = randomBytes(8 * 1024 * 1024 + 100);

  it('serves concurrent, slightly out-of-order requests exactly, and a short read at the end', async () => {
    const { stream } = source(data);
    const run = new ReadAheadStream(Promise.resolve(stream), 0, window);
    for (let at = 0; at < data.length; at += 4 * 128 * 1024) {
      const offsets = [at + 128 * 1024, at, at + 3 * 128 * 1024, at + 2 * 128 * 1024];
      const got = await Promise.all(offsets.map((offset) => readAt(run, offset, 128 * 1024)));
      got.forEach((bytes, i) => assert.deepEqual(bytes, data.subarray(offsets[i], (offsets[i] ?? 0) + 128 * 1024)));
    }
    run.close();
  });

  it('reads ahead at most `ahead` bytes past the furthest request, then waits (bounded memory)', async () => {
    const { stream, produced } = source(data);
    const run = new ReadAheadStream(Promise.resolve(stream), 0, window);
    assert.deepEqual(await readAt(run, 0, 4096), data.subarray(0, 4096));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(produced() <= 4096 + window.ahead + 2 * CHUNK, `produced ${produced()}`);
    assert.ok(produced() >= window.ahead, `read ahead only ${produced()}`);
    assert.deepEqual(await readAt(run, 3_000_000, 1000), data.subarray(3_000_000, 3_001_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(produced() <= 3_001_000 + window.ahead + 2 * CHUNK, `produced ${produced()}`);
    run.close();
  });

  it('covers only what it holds or will soon; a request behind what it keeps is left to the caller', async () => {
    const { stream } = source(data, 1_000_000);
    const run = new ReadAheadStream(Promise.resolve(stream), 1_000_000, window);
    assert.equal(run.covers(999_999), false);
    assert.equal(run.covers(1_000_000 + window.ahead), true);
    assert.equal(run.covers(1_000_001 + window.ahead), false);
    assert.deepEqual(await readAt(run, 1_000_000, 10), data.subarray(1_000_000, 1_000_010));
    assert.deepEqual(await readAt(run, 3_000_000, 10), data.subarray(3_000_000, 3_000_010));
    assert.equal(run.covers(1_000_000), false, 'dropped: more than `behind` before the furthest request');
    assert.equal(await readAt(run, 1_000_000, 10), undefined);
    run.close();
  });

  it('fails the waiting requests when the stream fails, or the file is closed', async () => {
    const failing = new ReadAheadStream(Promise.resolve(source(data, 0, 2 * 1024 * 1024).stream), 0, window);
    assert.deepEqual(await readAt(failing, 0, 10), data.subarray(0, 10));
    await assert.rejects(readAt(failing, 2 * 1024 * 1024 + 10, 10).then(() => readAt(failing, 3 * 1024 * 1024, 10)), /went away/);
    assert.equal(failing.failed, true);
    assert.equal(failing.covers(0), false);
    const never = new ReadAheadStream(new Promise<Readable>(() => undefined), 0, window);
    const waiting = readAt(never, 0, 10);
    never.close();
    await assert.rejects(waiting, (error: unknown) => error instanceof DoraError && error.code === 'CANCELLED');
    const refused = new ReadAheadStream(Promise.reject(new DoraError('NOT_FOUND', 'gone')), 0, window);
    await assert.rejects(readAt(refused, 0, 10), /gone/);
  });
});
