import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { S3Error } from '../s3-error.js';
import { MultipartStore } from './multipart-store.js';

describe('MultipartStore', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const fresh = async (): Promise<{ store: MultipartStore; dir: string }> => {
    const dir = await mkdtemp(join(tmpdir(), 'dora-multipart-'));
    dirs.push(dir);
    return { store: new MultipartStore(dir), dir };
  };

  it('stages parts on disk and reads them back in order', async () => {
    const { store } = await fresh();
    const upload = await store.create('b', 'k');
    await store.putPart(upload, 2, [Buffer.from('world')]);
    await store.putPart(upload, 1, [Buffer.from('hello ')]);
    await store.putPart(upload, 1, [Buffer.from('HELLO ')]); // a part uploaded again replaces the first
    const parts = await store.parts(upload);
    assert.deepEqual(parts.map((p) => [p.partNumber, p.size]), [[1, 6], [2, 5]]);
    const chunks: Buffer[] = [];
    for await (const c of store.read(upload, parts)) chunks.push(Buffer.from(c));
    assert.equal(Buffer.concat(chunks).toString(), 'HELLO world');
  });

  it('refuses unknown, malformed and other keys\' upload ids with NoSuchUpload', async () => {
    const { store } = await fresh();
    const upload = await store.create('b', 'k');
    for (const [id, key] of [['0'.repeat(32), 'k'], ['../../etc', 'k'], [upload.uploadId, 'other']] as const) {
      await assert.rejects(store.get(id, 'b', key), (e: unknown) => e instanceof S3Error && e.s3Code === 'NoSuchUpload');
    }
  });

  it('sweeps uploads older than the age limit with their parts, and leaves newer ones', async () => {
    const { store, dir } = await fresh();
    const old = await store.create('b', 'old');
    await store.putPart(old, 1, [Buffer.alloc(10)]);
    const fresh2 = await store.create('b', 'new');
    assert.equal(await store.sweep(60_000, Date.now() + 30_000), 0);
    assert.equal(await store.sweep(60_000, old.initiatedMs + 120_000), 2);
    const left = await readdir(dir);
    assert.deepEqual(left, []);
    assert.equal(fresh2.key, 'new');
  });
});
