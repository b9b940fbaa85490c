import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanSize, listingLine, shortTime, table } from './output.js';

describe('humanSize()', () => {
  it('shows bytes below 1 KiB as they are', () => {
    assert.equal(humanSize(0), '0 B');
    assert.equal(humanSize(1023), '1023 B');
  });

  it('shows one decimal below 10 units and whole numbers above', () => {
    assert.equal(humanSize(1024), '1.0 KiB');
    assert.equal(humanSize(1536), '1.5 KiB');
    assert.equal(humanSize(34 * 1024 * 1024), '34 MiB');
    assert.equal(humanSize(5 * 1024 ** 4), '5.0 TiB');
  });

  it('carries a value that rounds up to 1024 into the next unit', () => {
    assert.equal(humanSize(1024 * 1024 - 1), '1.0 MiB');
  });
});

describe('listingLine()', () => {
  it('marks directories with d and a trailing slash, and files with their size', () => {
    const mtimeMs = new Date(2024, 4, 1, 12, 30).getTime();
    assert.equal(
      listingLine({ path: '/a', name: 'a', kind: 'directory', size: 0, mtimeMs: 0, version: '', mount: '/' }, 'a'),
      'd          -  -                 a/\n',
    );
    assert.equal(
      listingLine({ path: '/f', name: 'f', kind: 'file', size: 1536, mtimeMs, version: 'v', mount: '/' }, 'f'),
      '-    1.5 KiB  2024-05-01 12:30  f\n',
    );
    assert.equal(shortTime(0), '-');
  });
});

describe('table()', () => {
  it('pads every column but the last to its widest cell', () => {
    assert.equal(table([['A', 'B', 'C'], ['long', 'x', 'tail']]), 'A     B  C\nlong  x  tail\n');
  });
});
