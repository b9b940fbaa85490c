import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkReader } from './chunk-reader.js';

async function* chunks(...sizes: number[]): AsyncGenerator<Uint8Array> {
  let byte = 0;
  for (const size of sizes) yield Uint8Array.from({ length: size }, () => byte++ % 256);
}

const bytes = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => (from + i) % 256);

describe('ChunkReader', () => {
  it('reads pieces of the asked size across chunk boundaries, and knows the last one as it hands it out', async () => {
    const reader = new ChunkReader(chunks(3, 0, 5, 1, 7));
    const seen: [number[], boolean][] = [];
    while (!reader.ended) {
      const piece = await reader.read(4, undefined);
      seen.push([[...piece], reader.ended]);
    }
    assert.deepEqual(seen, [
      [bytes(4), false],
      [bytes(4, 4), false],
      [bytes(4, 8), false],
      [bytes(4, 12), true],
    ]);
  });

  it('cuts a buffer into views of it, never copies', async () => {
    const source = Buffer.from('abcdefghij');
    const reader = new ChunkReader(source);
    const first = await reader.read(4, undefined);
    assert.equal(first.buffer, source.buffer);
    assert.equal(Buffer.from(first).toString(), 'abcd');
    assert.equal(Buffer.from(await reader.read(100, undefined)).toString(), 'efghij');
    assert.equal(reader.ended, true);
  });

  it('is ended at once for an empty source, and reads nothing from it', async () => {
    for (const source of [Buffer.alloc(0), chunks(), chunks(0, 0)]) {
      const reader = new ChunkReader(source);
      assert.equal((await reader.read(8, undefined)).byteLength, 0);
      assert.equal(reader.ended, true);
    }
  });

  it('fills a buffer from where it is used, and looks ahead so a full buffer knows whether more follows', async () => {
    const reader = new ChunkReader([Buffer.from('abc'), Buffer.from('defg')]);
    const buffer = new Uint8Array(5);
    assert.equal(await reader.fill(buffer, 1, undefined), 5);
    assert.equal(Buffer.from(buffer.subarray(1)).toString(), 'abcd');
    assert.equal(reader.ended, false);
    assert.equal(await reader.fill(buffer, 0, undefined), 3);
    assert.equal(Buffer.from(buffer.subarray(0, 3)).toString(), 'efg');
    assert.equal(reader.ended, true);
  });

  it('stops its source on close, and checks the signal between chunks', async () => {
    let returned = false;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: Buffer.alloc(2) }),
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const reader = new ChunkReader(source);
    await reader.read(3, undefined);
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await assert.rejects(reader.read(10, controller.signal), /stopped/);
    await reader.close();
    assert.equal(returned, true);
    assert.equal(reader.ended, true);
  });
});
