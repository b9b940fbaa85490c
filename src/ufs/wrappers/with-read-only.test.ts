import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDoraError } from '../../common/errors.js';
import { readAll } from '../../common/streams.js';
import { startMotoServer } from '../../testing/moto-server.js';
import { createBucket, s3Options } from '../../testing/s3-fixture.js';
import type { S3ServerHandle } from '../../testing/s3-server-handle.js';
import { LocalUfs } from '../local/local-ufs.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { withReadOnly } from './with-read-only.js';

const LABEL = 'mount "/archive"';

/** Rejects with PERMISSION_DENIED naming the label and the path. */
async function refused(promise: Promise<unknown>, path: string): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(isDoraError(error, 'PERMISSION_DENIED'), String(error));
    assert.equal(error.retryable, false);
    assert.ok(error.message.includes(LABEL), error.message);
    assert.ok(error.message.includes(path), error.message);
    return true;
  });
}

/** Every entry below `dir`, with file contents, to compare before and after. */
async function snapshot(dir: string, out: Record<string, string> = {}, under = ''): Promise<Record<string, string>> {
  for (const entry of await readdir(join(dir, under), { withFileTypes: true })) {
    const path = join(under, entry.name);
    out[path] = entry.isDirectory() ? '<dir>' : await readFile(join(dir, path), 'utf8');
    if (entry.isDirectory()) await snapshot(dir, out, path);
  }
  return out;
}

describe('withReadOnly over file://', () => {
  let dir: string;
  let ufs: UnderFileSystem;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-read-only-'));
    await mkdir(join(dir, 'docs'));
    await writeFile(join(dir, 'docs', 'a.txt'), 'alpha');
    await writeFile(join(dir, 'b.txt'), 'beta');
    ufs = withReadOnly(new LocalUfs(dir), LABEL);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses write, delete, mkdir, rename and tagging with PERMISSION_DENIED naming the mount, and changes nothing', async () => {
    const before = await snapshot(dir);
    await refused(ufs.write('docs/a.txt', Buffer.from('overwritten')), 'docs/a.txt');
    await refused(ufs.write('new.txt', Buffer.from('new')), 'new.txt');
    await refused(ufs.delete('b.txt'), 'b.txt');
    await refused(ufs.delete('docs'), 'docs');
    await refused(ufs.mkdir('newdir'), 'newdir');
    assert.ok(ufs.rename !== undefined, 'a store with rename keeps the method');
    await refused(ufs.rename('b.txt', 'c.txt'), 'b.txt');
    assert.ok(ufs.tagging !== undefined, 'a store with tagging keeps it');
    await refused(ufs.tagging.put('b.txt', { a: 'b' }), 'b.txt');
    assert.deepEqual(await ufs.tagging.get('b.txt'), {}, 'reading tags is allowed');
    assert.deepEqual(await snapshot(dir), before);
  });

  it('refuses a write of a stream without reading from it', async () => {
    let pulled = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      pulled = true;
      yield Buffer.from('x');
    }
    await refused(ufs.write('streamed.txt', source()), 'streamed.txt');
    assert.equal(pulled, false);
  });

  it('serves stat, read and list', async () => {
    assert.equal((await ufs.stat('docs/a.txt')).size, 5);
    assert.equal((await readAll((await ufs.read('b.txt')).stream)).toString(), 'beta');
    const listed: string[] = [];
    for await (const entry of ufs.list('', { recursive: true })) listed.push(entry.path);
    assert.deepEqual(listed, ['b.txt', 'docs/a.txt']);
    assert.deepEqual(ufs.capabilities, { rename: true, multipart: false, tagging: true });
    assert.equal(ufs.multipart, undefined);
  });
});

describe('withReadOnly over s3://', () => {
  let moto: S3ServerHandle;
  let inner: UnderFileSystem;

  before(async () => {
    moto = await startMotoServer();
    await createBucket(moto, 'read-only');
    inner = await createDefaultUfsRegistry().create('s3://read-only/', s3Options(moto));
  });
  after(async () => {
    await inner.close();
    await moto.stop();
  });

  it('refuses every multipart call, and no object appears', async () => {
    const ufs = withReadOnly(inner, LABEL);
    const multipart = ufs.multipart;
    assert.ok(multipart !== undefined, 'a store with multipart keeps it');
    await refused(multipart.create('big.bin'), 'big.bin');
    // Calls on an upload begun through the writable store are refused too.
    const uploadId = await inner.multipart?.create('big.bin') ?? assert.fail('no multipart');
    const part = { partNumber: 1, etag: 'x' };
    await refused(multipart.uploadPart('big.bin', { uploadId, partNumber: 1 }, Buffer.from('x')), 'big.bin');
    await refused(multipart.complete('big.bin', uploadId, [part]), 'big.bin');
    await refused(multipart.abort('big.bin', uploadId), 'big.bin');
    await inner.multipart?.abort('big.bin', uploadId);
    await assert.rejects(ufs.stat('big.bin'), (error) => isDoraError(error, 'NOT_FOUND'));
  });
});
