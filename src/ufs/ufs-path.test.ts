import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareKeys, listingKey } from './ufs-path.js';

describe('compareKeys()', () => {
  it('orders keys by their UTF-8 bytes, as S3 does', () => {
    const keys = ['a', 'a/b', 'a-b', 'a0', '\uffff', '😀', 'Z', 'é'];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...keys].sort(compareKeys), byBytes);
    assert.ok(compareKeys('\uffff', '😀') < 0, 'U+FFFF sorts before U+1F600 in UTF-8, unlike UTF-16');
  });

  it('sorts a directory after every key below it in one-level listings', () => {
    const dir = listingKey({ path: 'a', kind: 'directory' });
    for (const key of ['a/', 'a/z', 'a/\uffff', 'a/😀/x']) assert.ok(compareKeys(key, dir) < 0, key);
    assert.ok(compareKeys(dir, 'a0') < 0);
  });
});
