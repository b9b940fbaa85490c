import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDoraError } from '../../common/errors.js';
import { readAll } from '../../common/streams.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { LocalUfs } from './local-ufs.js';

describe('LocalUfs keeps every path inside its root', () => {
  let base: string;
  let root: string;
  let outside: string;
  let ufs: LocalUfs;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'dora-escape-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    await mkdir(join(root, 'inner'), { recursive: true });
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 'secret');
    await writeFile(join(root, 'inner', 'ok'), 'ok');
    await symlink(outside, join(root, 'out-dir'));
    await symlink(join(outside, 'secret'), join(root, 'out-file'));
    await symlink(join(root, 'inner'), join(root, 'in-dir'));
    await symlink('../inner/ok', join(root, 'inner', 'relative-ok'));
    await symlink('/nonexistent/target', join(root, 'dangling'));
    ufs = new LocalUfs(root);
  });
  after(() => rm(base, { recursive: true, force: true }));

  const denied = (e: unknown): boolean => isDoraError(e, 'PERMISSION_DENIED') && /outside the mount root/.test(e.message);

  it('refuses to read, stat or list through a symbolic link that points outside', async () => {
    await assert.rejects(ufs.read('out-file'), denied);
    await assert.rejects(ufs.stat('out-file'), denied);
    await assert.rejects(ufs.read('out-dir/secret'), denied);
    await assert.rejects(ufs.stat('out-dir'), denied);
    await assert.rejects(async () => {
      for await (const _ of ufs.list('out-dir')) void _;
    }, denied);
  });

  it('refuses to write or create directories through a link that points outside, writing nothing there', async () => {
    await assert.rejects(ufs.write('out-dir/planted', Buffer.from('x')), denied);
    await assert.rejects(ufs.write('out-dir/new/deeper', Buffer.from('x')), denied);
    await assert.rejects(ufs.mkdir('out-dir/made'), denied);
    await assert.rejects(ufs.write('out-file', Buffer.from('overwrite')), denied);
    assert.deepEqual((await readdir(outside)).sort(), ['secret']);
  });

  it('follows links that stay inside the root and hides the rest from listings', async () => {
    assert.equal((await readAll((await ufs.read('in-dir/ok')).stream)).toString(), 'ok');
    assert.equal((await readAll((await ufs.read('inner/relative-ok')).stream)).toString(), 'ok');
    const names: string[] = [];
    for await (const entry of ufs.list('')) names.push(entry.path);
    assert.deepEqual(names, ['in-dir', 'inner']);
    const all: string[] = [];
    for await (const entry of ufs.list('', { recursive: true })) all.push(entry.path);
    assert.deepEqual(all, ['in-dir/ok', 'in-dir/relative-ok', 'inner/ok', 'inner/relative-ok']);
  });

  it('refuses "..", absolute paths and "." in the root URI itself', async () => {
    const registry = createDefaultUfsRegistry();
    for (const uri of ['file:///srv/../etc', 'file:///srv/./data', 'file://otherhost/srv']) {
      await assert.rejects(registry.create(uri), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT'), uri);
    }
    await assert.rejects(ufs.read('../outside/secret'), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(ufs.read(join(outside, 'secret')), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT'));
  });

  it('hides its temporary files from listings', async () => {
    await writeFile(join(root, 'inner', '.dora-tmp-abandoned'), 'half');
    const names: string[] = [];
    for await (const entry of ufs.list('inner')) names.push(entry.path);
    assert.ok(!names.some((n) => n.includes('.dora-tmp-')));
  });
});
