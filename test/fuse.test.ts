import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DoraClient } from '../src/client/dora-client.js';
import { DoraFuse } from '../src/fuse/dora-fuse.js';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { sha256 } from '../src/testing/assertions.js';

// The daemon runs in this process, so the mount is only ever used through child processes (cat,
// ls, sha256sum…): this event loop must stay free to answer the kernel.
const run = promisify(execFile);

describe('dora mounted with FUSE, used by ordinary programs', () => {
  let dir: string;
  let dora: Embedded;
  let client: DoraClient;
  let fuse: DoraFuse;
  const big = randomBytes(9 * 1024 * 1024 + 123);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-fuse-'));
    dora = await startEmbedded({ dataDir: join(dir, 'data') });
    client = new DoraClient({ address: dora.coordinatorUrl });
    await client.write('/data/hello.txt', Buffer.from('hello, fuse\n'));
    await client.write('/data/nested/big.bin', big);
    fuse = await DoraFuse.mount({ client, mountPoint: join(dir, 'mnt') });
  });
  after(async () => {
    await fuse?.unmount();
    await client?.close();
    await dora?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('cat, ls -lR and sha256sum see the namespace as files', async () => {
    const mnt = join(dir, 'mnt');
    assert.equal((await run('cat', [join(mnt, 'data/hello.txt')])).stdout, 'hello, fuse\n');
    const listing = (await run('ls', ['-lR', join(mnt, 'data')])).stdout;
    assert.match(listing, /hello\.txt/);
    assert.match(listing, new RegExp(`${big.length} .* big\\.bin`));
    assert.equal((await run('sha256sum', [join(mnt, 'data/nested/big.bin')])).stdout.split(' ')[0], sha256(big));
    const python = 'import sys\nf = open(sys.argv[1], "rb")\nf.seek(5_000_000)\nsys.stdout.write(f.read(16).hex())';
    assert.equal((await run('python3', ['-c', python, join(mnt, 'data/nested/big.bin')])).stdout, big.subarray(5_000_000, 5_000_016).toString('hex'));
  });

  it('writes new files, overwrites, appends and random writes, and they reach dora on close', async () => {
    const mnt = join(dir, 'mnt');
    await run('sh', ['-c', `echo first > ${mnt}/data/new.txt && echo second >> ${mnt}/data/new.txt`]);
    assert.equal((await client.readFile('/data/new.txt')).toString(), 'first\nsecond\n');
    await run('cp', [join(dir, 'data', 'mounts.json'), `${mnt}/data/copied.json`]);
    assert.equal((await client.stat('/data/copied.json')).kind, 'file');
    await run('dd', ['if=/dev/zero', `of=${mnt}/data/new.txt`, 'bs=1', 'count=3', 'seek=2', 'conv=notrunc'], {});
    assert.deepEqual([...(await client.readFile('/data/new.txt'))].slice(0, 6), [0x66, 0x69, 0, 0, 0, 0x0a]);
    await run('sh', ['-c', `printf 'replaced' > ${mnt}/data/new.txt`]);
    assert.equal((await client.readFile('/data/new.txt')).toString(), 'replaced');
    await run('truncate', ['-s', '3', `${mnt}/data/new.txt`]);
    assert.equal((await client.readFile('/data/new.txt')).toString(), 'rep');
  });

  it('makes and removes directories, renames and deletes files, and round-trips a tar archive', async () => {
    const mnt = join(dir, 'mnt');
    await run('mkdir', ['-p', `${mnt}/data/tree/a/b`]);
    await run('sh', ['-c', `echo leaf > ${mnt}/data/tree/a/b/leaf.txt`]);
    await run('mv', [`${mnt}/data/tree/a/b/leaf.txt`, `${mnt}/data/tree/moved.txt`]);
    assert.equal((await client.readFile('/data/tree/moved.txt')).toString(), 'leaf\n');
    await run('tar', ['-C', `${mnt}/data`, '-cf', join(dir, 'tree.tar'), 'tree', 'hello.txt']);
    await run('mkdir', [`${mnt}/data/restored`]);
    await run('tar', ['-C', `${mnt}/data/restored`, '-xf', join(dir, 'tree.tar')]);
    assert.equal((await client.readFile('/data/restored/tree/moved.txt')).toString(), 'leaf\n');
    assert.equal((await run('find', [`${mnt}/data/restored`, '-type', 'f'])).stdout.split('\n').filter(Boolean).length, 2);
    await run('rm', [`${mnt}/data/tree/moved.txt`]);
    await run('rmdir', [`${mnt}/data/tree/a/b`]);
    await assert.rejects(client.stat('/data/tree/moved.txt'), /no such file/i);
  });

  it('answers POSIX errors: ENOENT, ENOTDIR, EEXIST, ENOTEMPTY', async () => {
    const mnt = join(dir, 'mnt');
    await assert.rejects(run('cat', [join(mnt, 'data/missing')]), /No such file or directory/);
    await assert.rejects(run('ls', [join(mnt, 'data/hello.txt/x')]), /Not a directory|No such file/);
    await assert.rejects(run('mkdir', [join(mnt, 'data/nested')]), /File exists/);
    await assert.rejects(run('rmdir', [join(mnt, 'data/nested')]), /Directory not empty/);
    await assert.rejects(run('rmdir', [join(mnt, 'data/hello.txt')]), /Not a directory/);
  });

  it('answers EROFS for every change under a read-only mount, and still reads it', async () => {
    const mnt = join(dir, 'mnt');
    await client.write('/data/ro-source/kept.txt', Buffer.from('kept'));
    await client.mount({ path: '/ro', uri: `file://${join(dir, 'data', 'root', 'data', 'ro-source')}`, readOnly: true });
    assert.equal((await run('cat', [`${mnt}/ro/kept.txt`])).stdout, 'kept');
    await new Promise((r) => setTimeout(r, 1100)); // the daemon trusts the mount table as long as attributes (1 s)
    for (const command of [`echo x > ${mnt}/ro/new.txt`, `echo x >> ${mnt}/ro/kept.txt`, `rm ${mnt}/ro/kept.txt`, `mkdir ${mnt}/ro/dir`, `mv ${mnt}/ro/kept.txt ${mnt}/ro/moved.txt`]) {
      await assert.rejects(run('sh', ['-c', command]), /Read-only file system/, command);
    }
    assert.equal((await client.readFile('/ro/kept.txt')).toString(), 'kept');
  });
});
