import assert from 'node:assert/strict';
import { rejectsWith } from '../testing/assertions.js';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import { readAll } from '../common/streams.js';
import { freePort } from '../testing/free-port.js';
import { startMotoServer } from '../testing/moto-server.js';
import { createBucket, s3Options } from '../testing/s3-fixture.js';
import type { S3ServerHandle } from '../testing/s3-server-handle.js';
import { createDefaultUfsRegistry } from '../ufs/ufs-registry.js';
import { FileMountStore } from './file-mount-store.js';
import { MountTable } from './mount-table.js';


describe('MountTable', () => {
  let dir: string;
  let moto: S3ServerHandle;
  const registry = createDefaultUfsRegistry();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-mounts-'));
    moto = await startMotoServer();
    await createBucket(moto, 'sales');
  });
  after(async () => {
    await moto.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function freshTable(name: string): Promise<{ table: MountTable; file: string; root: string }> {
    const root = await mkdtemp(join(dir, `${name}-root-`));
    const file = join(dir, `${name}.json`);
    const table = await MountTable.open(new FileMountStore(file), { registry });
    await table.add({ path: '/', uri: `file://${root}` });
    return { table, file, root };
  }

  it('resolves paths by the longest mount prefix, on segment boundaries', async () => {
    const { table, root } = await freshTable('resolve');
    await table.add({ path: '/sales', uri: 's3://sales/2024', options: s3Options(moto) });
    assert.deepEqual(table.locate('/sales/q1/report.csv').path, 'q1/report.csv');
    assert.equal(table.locate('/sales/q1').mount.path, '/sales');
    assert.equal(table.locate('/sales').path, '');
    assert.equal(table.locate('/salesforce/x').mount.path, '/');
    assert.equal(table.locate('//sales//q1/').path, 'q1');
    const { ufs, path } = await table.resolve('/sales/a.txt');
    await ufs.write(path, Buffer.from('through the mount'));
    assert.equal((await readAll((await ufs.read('a.txt')).stream)).toString(), 'through the mount');
    assert.equal(ufs.uri, 's3://sales/2024/');
    await writeFile(join(root, 'local.txt'), 'local');
    const local = await table.resolve('/local.txt');
    assert.equal((await local.ufs.stat(local.path)).size, 5);
    await table.close();
  });

  it('refuses path traversal and relative paths in lookups', async () => {
    const { table } = await freshTable('traversal');
    for (const bad of ['/a/../../etc/passwd', '/..', '/./a', 'relative', '', '/a\0b']) {
      assert.throws(() => table.locate(bad), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT'));
    }
    await table.close();
  });

  it('keeps the table across reopening, in a private file', async () => {
    const { table, file } = await freshTable('persist');
    await table.add({ path: '/ro', uri: 's3://sales/', options: s3Options(moto), readOnly: true, writeType: 'through' });
    await table.close();
    const reopened = await MountTable.open(new FileMountStore(file), { registry });
    assert.deepEqual(reopened.list().map((m) => [m.path, m.readOnly, m.writeType]), [['/', false, 'CACHE_THROUGH'], ['/ro', true, 'THROUGH']]);
    const { mode } = await import('node:fs/promises').then((fs) => fs.stat(file));
    assert.equal(mode & 0o777, 0o600);
    await reopened.close();
  });

  it('refuses writes through a read-only mount and still reads', async () => {
    const { table } = await freshTable('readonly');
    const seed = await table.resolve('/seed.txt');
    await seed.ufs.write(seed.path, Buffer.from('seed'));
    const root = table.list()[0]?.uri.replace('file://', '') ?? '';
    await table.add({ path: '/ro', uri: `file://${root}`, readOnly: true });
    const { ufs, path } = await table.resolve('/ro/new.txt');
    await rejectsWith(ufs.write(path, Buffer.from('x')), 'PERMISSION_DENIED', 'the mount "/ro" is read-only');
    await rejectsWith(ufs.delete('seed.txt'), 'PERMISSION_DENIED');
    await rejectsWith(ufs.mkdir('d'), 'PERMISSION_DENIED');
    assert.equal((await ufs.stat('seed.txt')).size, 4);
    assert.ok(!(await readdir(root)).includes('new.txt'));
    await table.close();
  });

  it('rejects bad mounts with a clear error and saves nothing', async () => {
    const { table, file, root } = await freshTable('bad');
    await writeFile(join(root, 'a-file'), 'x');
    const before = await readFile(file, 'utf8');
    const closed = `http://127.0.0.1:${await freePort()}`;
    await rejectsWith(table.add({ path: '/', uri: 'file:///tmp' }), 'ALREADY_EXISTS', '"/" is already a mount point');
    await rejectsWith(table.add({ path: '/x', uri: 'gopher://host/x' }), 'INVALID_ARGUMENT', 'unknown scheme "gopher"');
    await rejectsWith(table.add({ path: '/x', uri: 'not a uri' }), 'INVALID_ARGUMENT', 'Invalid store URI');
    await rejectsWith(table.add({ path: '/x', uri: 's3://Bad_Bucket/' }), 'INVALID_ARGUMENT', 'not a valid bucket name');
    await rejectsWith(table.add({ path: '/x', uri: 's3://sales/', options: { colour: 'blue' } }), 'INVALID_ARGUMENT', 'unknown option "colour"');
    await rejectsWith(table.add({ path: '/x', uri: 's3://sales/', writeType: 'SOMETIMES' }), 'INVALID_ARGUMENT', 'write type');
    await rejectsWith(table.add({ path: '/a-file', uri: 's3://sales/', options: s3Options(moto) }), 'FAILED_PRECONDITION', '"/a-file" is a file');
    await rejectsWith(table.add({ path: '/a-file/below', uri: 's3://sales/', options: s3Options(moto) }), 'NOT_A_DIRECTORY', 'parent mount "/"');
    await rejectsWith(table.add({ path: '/../etc', uri: 's3://sales/', options: s3Options(moto) }), 'INVALID_ARGUMENT', '".." segments');
    await rejectsWith(
      table.add({ path: '/down', uri: 's3://sales/', options: { ...s3Options(moto), endpoint: closed } }),
      'UNAVAILABLE',
      'Cannot mount "s3://sales/" at "/down"',
      closed.replace('http://', ''),
    );
    await rejectsWith(table.add({ path: '/nobucket', uri: 's3://no-such-bucket/', options: s3Options(moto) }), 'NOT_FOUND', 'bucket does not exist');
    await rejectsWith(table.add({ path: '/gone', uri: `file://${root}/missing` }), 'UNAVAILABLE', 'not accessible');
    assert.equal(await readFile(file, 'utf8'), before);
    assert.deepEqual(table.list().map((m) => m.path), ['/']);
    await table.close();
  });

  it('removes mounts, but not one with mounts nested inside', async () => {
    const { table } = await freshTable('remove');
    await table.add({ path: '/sales', uri: 's3://sales/', options: s3Options(moto) });
    await table.add({ path: '/sales/eu', uri: 's3://sales/eu/', options: s3Options(moto) });
    assert.equal(table.locate('/sales/eu/x').mount.path, '/sales/eu');
    await rejectsWith(table.remove('/sales'), 'FAILED_PRECONDITION', '"/sales/eu" is mounted inside it');
    await rejectsWith(table.remove('/nothing'), 'NOT_FOUND');
    await table.remove('/sales/eu');
    await table.remove('/sales');
    assert.equal(table.locate('/sales/eu/x').mount.path, '/');
    await table.close();
  });

  it('resolves credentials by name when the store is opened, without saving them', async () => {
    const file = join(dir, 'creds.json');
    const table = await MountTable.open(new FileMountStore(file), {
      registry,
      resolveCredentials: (name) => {
        if (name !== 'moto') throw new Error(`no credentials named "${name}"`);
        return { accessKeyId: moto.accessKeyId, secretAccessKey: moto.secretAccessKey };
      },
    });
    const { accessKeyId: _a, secretAccessKey: _s, ...rest } = s3Options(moto);
    await table.add({ path: '/c', uri: 's3://sales/', options: rest, credentials: 'moto' });
    await rejectsWith(table.add({ path: '/d', uri: 's3://sales/', options: rest, credentials: 'other' }), 'INTERNAL', 'no credentials named "other"');
    assert.ok(!(await readFile(file, 'utf8')).includes(moto.secretAccessKey));
    await table.close();
  });

  it('lists a mount once when the table reloads (a watch fires) while the mount is saved, and adds one path once', async () => {
    const root = await mkdtemp(join(dir, 'race-root-'));
    const file = new FileMountStore(join(dir, 'race.json'));
    const opened: { table?: MountTable } = {};
    const watched = {
      load: (o?: { signal?: AbortSignal | undefined }) => file.load(o),
      async save(mounts: Parameters<FileMountStore['save']>[0], o?: { signal?: AbortSignal | undefined }) {
        await file.save(mounts, o);
        await Promise.race([opened.table?.reload(), new Promise((r) => setTimeout(r, 20))]); // a watch firing before the save returns
      },
    };
    const table = (opened.table = await MountTable.open(watched, { registry }));
    const adds = await Promise.allSettled([table.add({ path: '/r', uri: `file://${root}` }), table.add({ path: '/r', uri: `file://${root}` })]);
    assert.deepEqual(adds.map((a) => a.status).sort(), ['fulfilled', 'rejected']);
    await table.reload();
    assert.deepEqual(table.list().map((m) => m.path), ['/r']);
    await table.close();
  });
});
