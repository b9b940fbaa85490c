import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import { parseCopyLocation } from './copy-location.js';

describe('parseCopyLocation()', () => {
  it('reads a path starting with "/" as a dora path', () => {
    assert.deepEqual(parseCopyLocation('/sales/q1.csv'), { kind: 'dora', path: '/sales/q1.csv', text: '/sales/q1.csv' });
  });

  it('reads "dora:" as a dora path', () => {
    assert.equal(parseCopyLocation('dora:/sales/q1.csv').path, '/sales/q1.csv');
    assert.equal(parseCopyLocation('dora:///sales').kind, 'dora');
    assert.equal(parseCopyLocation('dora:///sales').path, '/sales');
  });

  it('reads relative paths as local files in the current directory', () => {
    for (const text of ['./a.csv', '../a.csv', 'a.csv', 'dir/a.csv']) {
      assert.deepEqual(parseCopyLocation(text), { kind: 'local', path: resolve(text), text });
    }
  });

  it('reads "file:" paths and URLs as local files', () => {
    assert.equal(parseCopyLocation('file:/tmp/a.csv').path, '/tmp/a.csv');
    assert.equal(parseCopyLocation('file:///tmp/a%20b.csv').path, '/tmp/a b.csv');
    assert.equal(parseCopyLocation('file:rel.csv').path, resolve('rel.csv'));
    assert.equal(parseCopyLocation('file:/tmp/a.csv').kind, 'local');
  });

  it('rejects an empty path with INVALID_ARGUMENT', () => {
    assert.throws(() => parseCopyLocation(''), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT'));
  });
});
