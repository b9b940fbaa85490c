import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ringPosition } from './ring-position.js';

describe('ringPosition()', () => {
  it('is the first 6 bytes of the MD5 of the text, big-endian', () => {
    // MD5("") = d41d8cd98f00b204e9800998ecf8427e
    assert.equal(ringPosition(''), 0xd41d8cd98f00);
    // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72
    assert.equal(ringPosition('abc'), 0x900150983cd2);
  });

  it('hashes the UTF-8 bytes of the text', () => {
    for (const text of ['été', 'naïve/文件.txt', '😀', 'a\u0301']) {
      const expected = createHash('md5').update(Buffer.from(text, 'utf8')).digest().readUIntBE(0, 6);
      assert.equal(ringPosition(text), expected, text);
    }
    assert.notEqual(ringPosition('\u00e9'), ringPosition('e\u0301'), 'no Unicode normalization');
  });

  it('stays below 2⁴⁸ and spreads similar labels over the whole range', () => {
    const positions = Array.from({ length: 10_000 }, (_, i) => ringPosition(`worker-1#${i}`));
    assert.ok(positions.every((p) => Number.isInteger(p) && p >= 0 && p < 2 ** 48));
    const buckets = new Array<number>(16).fill(0);
    for (const p of positions) buckets[Math.floor(p / 2 ** 44)]!++;
    assert.ok(buckets.every((n) => n > 500 && n < 750), `16 buckets of ~625: ${buckets.join(' ')}`);
  });
});
