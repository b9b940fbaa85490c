import assert from 'node:assert/strict';
import { it } from 'node:test';
import { readAll } from '../common/streams.js';
import type { UfsStatus, UnderFileSystem } from '../ufs/under-file-system.js';
import { rejectsWith } from './assertions.js';
import type { ReadOnlyFixture } from './ufs-conformance.js';

/**
 * The conformance suite's one test of changes for a read-only store (see `UfsFixture.readOnly`):
 * every change is refused with PERMISSION_DENIED, before the store or a stream source is touched.
 */
export function runReadOnlyRefusals(fresh: () => Promise<UnderFileSystem>, readOnly: ReadOnlyFixture): void {
  it('refuses every change with PERMISSION_DENIED, not retryable, and changes nothing', async () => {
    const ufs = await fresh();
    assert.deepEqual(ufs.capabilities, { rename: false, multipart: false, tagging: false });
    assert.equal(ufs.rename, undefined);
    assert.equal(ufs.multipart, undefined);
    assert.equal(ufs.tagging, undefined);
    await readOnly.seed(ufs, { 'ro/file': Buffer.from('kept'), 'ro/empty': 'directory' });
    const before = await ufs.stat('ro/file');
    let pulled = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      pulled = true;
      yield Buffer.from('new');
    }
    const changes: Array<() => Promise<unknown>> = [
      () => ufs.write('ro/file', Buffer.from('changed')),
      () => ufs.write('ro/new', source()),
      () => ufs.write('ro/sized', Buffer.from('x'), { size: 1, contentType: 'text/plain' }),
      () => ufs.delete('ro/file'),
      () => ufs.delete('ro/empty'),
      () => ufs.delete('ro/missing'),
      () => ufs.mkdir('ro/dir'),
      () => ufs.mkdir('ro/empty'),
    ];
    for (const change of changes) assert.equal((await rejectsWith(change(), 'PERMISSION_DENIED')).retryable, false);
    assert.equal(pulled, false, 'a refused write does not read its source');
    const listed: UfsStatus[] = [];
    for await (const entry of ufs.list('ro')) listed.push(entry);
    assert.deepEqual(listed.map((e) => [e.path, e.kind]), [['ro/empty', 'directory'], ['ro/file', 'file']]);
    assert.equal((await ufs.stat('ro/file')).version, before.version);
    assert.equal((await readAll((await ufs.read('ro/file')).stream)).toString(), 'kept');
  });
}
