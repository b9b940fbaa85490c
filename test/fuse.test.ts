import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DoraClient } from '../src/client/dora-client.js';
import { resolveConfig } from '../src/conf/resolve-config.js';
import { DoraFuse } from '../src/fuse/dora-fuse.js';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { sha256 } from '../src/testing/assertions.js';
import { inProcessWorkerApi } from '../src/worker/in-process-worker-api.js';

// The daemon runs in this process, so the mount is only ever used through child processes (cat,
// ls, sha256sum…): this event loop must stay free to answer the kernel.
const run = promisify(execFile);

// Both transports: the kernel protocol (as root, the default there) and libfuse (the default otherwise).
for (const transport of ['kernel', 'libfuse'] as const) describe(`dora mounted with FUSE (${transport}), used by ordinary programs`, () => {
  let dir: string;
  let dora: Embedded;
  let client: DoraClient;
  let fuse: DoraFuse;
  const big = randomBytes(9 * 1024 * 1024 + 123);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-fuse-'));
    await chmod(dir, 0o755); // other users reach the mount point (EACCES test)
    dora = await startEmbedded({ dataDir: join(dir, 'data') });
    // The kernel mount calls the worker in this process directly (as `dora start --fuse` does); the libfuse one over HTTP.
    client = new DoraClient({ address: dora.coordinatorUrl, ...(transport === 'kernel' ? { inProcess: inProcessWorkerApi(dora.worker) } : {}) });
    await client.write('/data/hello.txt', Buffer.from('hello, fuse\n'));
    await client.write('/data/nested/big.bin', big);
    const { fuse: settings } = await resolveConfig({ env: {}, flags: { 'fuse.transport': transport, 'fuse.allowOther': 'true', 'fuse.readAhead': '1MiB' } });
    fuse = await DoraFuse.mount({ client, mountPoint: join(dir, 'mnt'), settings });
    assert.equal(fuse.transport, transport);
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

  it('reads ahead for sequential readers, exactly, from any starting byte and with readers side by side', async () => {
    const file = join(dir, 'mnt/data/nested/big.bin');
    const slices = [0, 1, 4095, 1024 * 1024 - 7, 5_000_001, big.length - 10];
    const tails = await Promise.all(slices.map((skip) => run('sh', ['-c', `tail -c +${skip + 1} ${file} | sha256sum`])));
    tails.forEach(({ stdout }, i) => assert.equal(stdout.split(' ')[0], sha256(big.subarray(slices[i])), `from byte ${slices[i]}`));
    const python = 'import sys\nf = open(sys.argv[1], "rb", buffering=0)\nfor at in (0, 3_000_000, 100, 8_000_000, 200):\n    f.seek(at)\n    sys.stdout.write(f.read(70_000).hex())';
    const expected = [0, 3_000_000, 100, 8_000_000, 200].map((at) => big.subarray(at, at + 70_000).toString('hex')).join('');
    assert.equal((await run('python3', ['-c', python, file], { maxBuffer: 16 * 1024 * 1024 })).stdout, expected);
  });

  it('keeps the kernel page cache of a file across opens until its version changes', async () => {
    const file = join(dir, 'mnt/data/kept.bin');
    const first = randomBytes(300_000);
    await client.write('/data/kept.bin', first);
    const servedByDora = async (): Promise<number> => {
      const { workers } = await client.cacheSummary();
      return workers.reduce((sum, w) => sum + ('bytesFromCache' in w ? w.bytesFromCache + w.bytesFromStore : 0), 0);
    };
    assert.equal((await run('sha256sum', [file])).stdout.split(' ')[0], sha256(first));
    const before = await servedByDora();
    assert.equal((await run('sha256sum', [file])).stdout.split(' ')[0], sha256(first));
    assert.equal(await servedByDora(), before, 'the second read came from the kernel page cache');
    const second = randomBytes(first.length);
    await client.write('/data/kept.bin', second);
    await new Promise((r) => setTimeout(r, 1100)); // the attribute timeout (1 s)
    assert.equal((await run('sha256sum', [file])).stdout.split(' ')[0], sha256(second));
  });

  it('shows the cluster cache capacity to df, and ls -l of a directory sees every entry', async () => {
    const mnt = join(dir, 'mnt');
    const df = (await run('df', ['-B1', '--output=size,used', mnt])).stdout.trim().split('\n')[1]?.trim().split(/\s+/).map(Number);
    const summary = await client.cacheSummary();
    const capacity = summary.workers.flatMap((w) => ('tiers' in w ? w.tiers : [])).reduce((sum, tier) => sum + tier.capacityBytes, 0);
    assert.ok(df !== undefined && Math.abs((df[0] ?? 0) - capacity) < 4096, `df ${df?.join(' ')} vs capacity ${capacity}`);
    await Promise.all(Array.from({ length: 200 }, (_, i) => client.write(`/data/many/f${i}`, Buffer.alloc(i))));
    const rows = (await run('ls', ['-l', `${mnt}/data/many`])).stdout.split('\n').filter((line) => line.startsWith('-'));
    assert.equal(rows.length, 200);
    assert.ok(rows.some((row) => / 199 .* f199$/.test(row)));
  });

  it('answers POSIX errors: ENOENT, ENOTDIR, EEXIST, ENOTEMPTY, EISDIR, ENAMETOOLONG, EINVAL, EACCES', async () => {
    const mnt = join(dir, 'mnt');
    await assert.rejects(run('cat', [join(mnt, 'data/nested')]), /Is a directory/);
    await assert.rejects(run('sh', ['-c', `echo x > ${mnt}/data/nested`]), /Is a directory/);
    await assert.rejects(run('touch', [join(mnt, 'data', 'n'.repeat(256))]), /File name too long/);
    await assert.rejects(run('touch', [join(mnt, 'data/.dora-tmp-mine')]), /Invalid argument/); // a name the store reserves
    const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    assert.equal((await run('setpriv', [...nobody, 'cat', `${mnt}/data/hello.txt`])).stdout, 'hello, fuse\n');
    await assert.rejects(run('setpriv', [...nobody, 'sh', '-c', `echo x >> ${mnt}/data/hello.txt`]), /Permission denied/);
    await assert.rejects(run('setpriv', [...nobody, 'mkdir', `${mnt}/data/theirs`]), /Permission denied/);
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
