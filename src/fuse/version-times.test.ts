import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileStatus } from '../client/client-types.js';
import { VersionTimes } from './version-times.js';

const file = (path: string, version: string, mtimeMs: number): FileStatus => ({ path, name: path.slice(1), kind: 'file', size: 10, mtimeMs, version, mount: '/' });

describe('VersionTimes', () => {
  it('shows the store mtime until a new version keeps it, then a later one', () => {
    const times = new VersionTimes(10);
    assert.equal(times.mtimeOf(file('/a', 'v1', 5000)), 5000);
    assert.equal(times.mtimeOf(file('/a', 'v1', 5000)), 5000);
    assert.equal(times.mtimeOf(file('/a', 'v2', 5000)), 5001, 'same second, new version (S3)');
    assert.equal(times.mtimeOf(file('/a', 'v2', 5000)), 5001);
    assert.equal(times.mtimeOf(file('/a', 'v3', 5000)), 5002);
    assert.equal(times.mtimeOf(file('/a', 'v4', 9000)), 9000, 'a later mtime is shown as it is');
    assert.equal(times.mtimeOf({ ...file('/d', '', 7000), kind: 'directory' }), 7000);
  });

  it('remembers at most `limit` files', () => {
    const times = new VersionTimes(2);
    times.mtimeOf(file('/a', 'v1', 1000));
    times.mtimeOf(file('/b', 'v1', 1000));
    times.mtimeOf(file('/c', 'v1', 1000));
    assert.equal(times.mtimeOf(file('/a', 'v2', 1000)), 1000, '/a was forgotten');
    assert.equal(times.mtimeOf(file('/c', 'v2', 1000)), 1001);
  });
});
