import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rejectsWith } from '../../testing/assertions.js';
import { LocalUfs } from './local-ufs.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function store(): Promise<{ dir: string; ufs: LocalUfs }> {
  const dir = await mkdtemp(join(tmpdir(), 'dora-sidecar-'));
  dirs.push(dir);
  return { dir, ufs: new LocalUfs(dir) };
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

describe('file:// sidecars', () => {
  it('ignores the sidecar of a file replaced behind dora\'s back', async () => {
    const { dir, ufs } = await store();
    await ufs.write('a.txt', Buffer.from('one'), { contentType: 'text/plain', metadata: { k: 'v' } });
    assert.equal((await ufs.stat('a.txt')).etag, md5('one'));
    await writeFile(join(dir, 'a.txt'), 'changed outside');
    await utimes(join(dir, 'a.txt'), new Date(), new Date(Date.now() + 5000));
    const status = await ufs.stat('a.txt');
    assert.equal(status.etag, undefined, 'no ETag rather than a wrong one');
    assert.deepEqual(status.attributes, { metadata: {} });
  });

  it('keeps the sidecar with a renamed file and drops it with a deleted one', async () => {
    const { dir, ufs } = await store();
    await ufs.write('d/a', Buffer.from('x'), { metadata: { k: 'v' }, tags: { t: '1' } });
    await ufs.rename('d/a', 'e/b');
    assert.deepEqual((await ufs.stat('e/b')).attributes, { metadata: { k: 'v' } });
    assert.deepEqual(await ufs.tagging.get('e/b'), { t: '1' });
    await ufs.delete('e/b');
    assert.deepEqual(await readdir(join(dir, 'e')), [], 'no sidecar is left behind');
  });

  it('deletes a directory holding only sidecars of files removed behind dora\'s back', async () => {
    const { dir, ufs } = await store();
    await ufs.write('d/a', Buffer.from('x'));
    await rm(join(dir, 'd', 'a'));
    assert.deepEqual(await collect(ufs.list('d')), []);
    await ufs.delete('d');
    await rejectsWith(ufs.stat('d'), 'NOT_FOUND');
    await writeFile(join(dir, 'f'), 'user file');
    await ufs.mkdir('g');
    await writeFile(join(dir, 'g', 'keep'), 'k');
    await rejectsWith(ufs.delete('g'), 'DIRECTORY_NOT_EMPTY');
  });

  it('refuses names dora keeps for itself', async () => {
    const { ufs } = await store();
    await rejectsWith(ufs.write('.dora-meta-x', Buffer.from('x')), 'INVALID_ARGUMENT');
    await rejectsWith(ufs.write('d/.dora-tmp-y', Buffer.from('x')), 'INVALID_ARGUMENT');
    await rejectsWith(ufs.mkdir('.dora-meta-dir'), 'INVALID_ARGUMENT');
    await ufs.write('ok', Buffer.from('x'));
    assert.ok(ufs.rename !== undefined);
    await rejectsWith(ufs.rename('ok', '.dora-meta-z'), 'INVALID_ARGUMENT');
  });

  it('writes the sidecar before the file appears, so a new file always has its ETag', async () => {
    const { ufs } = await store();
    const writes = Array.from({ length: 20 }, (_, i) => ufs.write('race', Buffer.from(`v${i}`)));
    const seen = await Promise.all(Array.from({ length: 20 }, () => ufs.stat('race').catch(() => undefined)));
    await Promise.all(writes);
    for (const status of seen) if (status?.etag !== undefined) assert.match(status.etag, /^[0-9a-f]{32}$/);
    const final = await ufs.stat('race');
    assert.ok(final.etag !== undefined && Array.from({ length: 20 }, (_, i) => md5(`v${i}`)).includes(final.etag));
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
