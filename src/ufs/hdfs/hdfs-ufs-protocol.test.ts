import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { parseStoreUri } from '../../common/store-uri.js';
import { readAll } from '../../common/streams.js';
import { rejectsWith } from '../../testing/assertions.js';
import { startWebHdfsTestServer, type WebHdfsTestRequest } from '../../testing/webhdfs-test-server.js';
import type { UfsStatus, UnderFileSystem } from '../under-file-system.js';
import { DEFAULT_UFS_TUNING } from '../ufs-registry.js';
import { compareKeys, listingKey } from '../ufs-path.js';
import { HdfsClient } from './hdfs-client.js';
import { exactLength } from './hdfs-exact-length.js';
import { hdfsLocation } from './hdfs-location.js';
import { createHdfsUfs } from './hdfs-ufs-factory.js';
import { HdfsUfs } from './hdfs-ufs.js';

const server = await startWebHdfsTestServer({ pageLimit: 3, readOnlyUsers: ['reader'], delegationTokens: { 'tok-ana': 'ana' } });
const opened: UnderFileSystem[] = [];
after(async () => {
  await Promise.all(opened.map((u) => u.close()));
  await server.stop();
});

let roots = 0;
/** A store on a new directory of the test server. */
function store(options: Record<string, string> = { user: 'ana' }, root = `/t${++roots}`): HdfsUfs {
  const ufs = createHdfsUfs(parseStoreUri(`webhdfs://127.0.0.1:${server.namenodePort}${root}`), options, DEFAULT_UFS_TUNING) as HdfsUfs;
  opened.push(ufs);
  return ufs;
}

/** The requests made while `body` ran. */
async function requestsDuring(body: () => Promise<unknown>): Promise<WebHdfsTestRequest[]> {
  const from = server.requests.length;
  await body();
  return server.requests.slice(from);
}

const text = async (ufs: UnderFileSystem, path: string, range: { offset?: number; length?: number } = {}): Promise<string> => (await readAll((await ufs.read(path, range)).stream)).toString();
const paths = async (listing: AsyncIterable<UfsStatus>): Promise<string[]> => {
  const out: string[] = [];
  for await (const e of listing) out.push(e.path);
  return out;
};

describe('HdfsUfs over WebHDFS', () => {
  it('reads through the datanode the namenode redirects to, with the offset and length', async () => {
    const ufs = store();
    await ufs.write('f', Buffer.from('abcdefghij'));
    const seen = await requestsDuring(async () => assert.equal(await text(ufs, 'f', { offset: 2, length: 5 }), 'cdefg'));
    assert.deepEqual(seen.map((r) => `${r.node} ${r.method} ${r.op}`), ['namenode GET GETFILESTATUS', 'namenode GET OPEN', 'datanode GET OPEN']);
    for (const r of seen.slice(1)) assert.deepEqual([r.query.get('offset'), r.query.get('length')], ['2', '5']);
    assert.ok(seen[2]?.query.has('namenoderpcaddress'), 'the datanode is reached by the Location the namenode gave');
  });

  it('writes to a hidden temporary name through the datanode, then renames it over the target', async () => {
    const ufs = store();
    const seen = await requestsDuring(() => ufs.write('dir/file', Buffer.from('data'), { contentType: 'text/plain' }));
    assert.deepEqual(seen.map((r) => `${r.node} ${r.method} ${r.op}`), [
      'namenode GET GETFILESTATUS', 'namenode PUT CREATE', 'datanode PUT CREATE', 'namenode GET GETFILESTATUS', 'namenode PUT SETXATTR', 'namenode PUT RENAME',
    ]);
    const temp = seen[1]?.path ?? '';
    assert.match(temp, /\/dir\/\.dora-tmp-[0-9a-f]{16}$/);
    assert.equal(seen[2]?.path, temp);
    assert.deepEqual([seen[1]?.query.get('noredirect'), seen[1]?.query.get('overwrite')], ['true', 'false']);
    assert.deepEqual([seen[5]?.path, seen[5]?.query.get('destination'), seen[5]?.query.get('renameoptions')], [temp, `/t${roots}/dir/file`, 'OVERWRITE']);
    assert.deepEqual(await paths(ufs.list('', { recursive: true })), ['dir/file']);
  });

  it('sends user.name to the namenode and the datanode', async () => {
    const ufs = store({ user: 'ana' });
    const seen = await requestsDuring(async () => {
      await ufs.write('u', Buffer.from('x'));
      await text(ufs, 'u');
    });
    assert.ok(seen.some((r) => r.node === 'datanode'));
    for (const r of seen) assert.deepEqual([r.query.get('user.name'), r.query.get('delegation')], ['ana', null], `${r.node} ${r.op}`);
  });

  it('sends a delegation token in place of user.name, and reports a refused one as PERMISSION_DENIED', async () => {
    const ufs = store({ delegationToken: 'tok-ana' });
    const seen = await requestsDuring(async () => {
      await ufs.write('t', Buffer.from('x'));
      assert.equal(await text(ufs, 't'), 'x');
    });
    assert.ok(seen.some((r) => r.node === 'datanode'));
    for (const r of seen) assert.deepEqual([r.query.get('delegation'), r.query.get('user.name')], ['tok-ana', null], `${r.node} ${r.op}`);
    const error = await rejectsWith(store({ delegationToken: 'stolen' }).stat(''), 'PERMISSION_DENIED', 'delegation token was refused');
    assert.equal(error.retryable, false);
  });

  it('reports a request without a user (401, not JSON) as PERMISSION_DENIED naming the options', async () => {
    const location = hdfsLocation(parseStoreUri(`webhdfs://127.0.0.1:${server.namenodePort}/`), undefined);
    const ufs = new HdfsUfs(new HdfsClient(location.base, {}, { maxSockets: 4 }), location, { xattrs: true });
    opened.push(ufs);
    await rejectsWith(ufs.stat(''), 'PERMISSION_DENIED', 'requires authentication', 'user or delegationToken');
  });

  it('lists page by page with LISTSTATUS_BATCH and startAfter', async () => {
    const ufs = store();
    const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
    for (const n of names) await ufs.write(n, Buffer.from(n));
    const seen = await requestsDuring(async () => assert.deepEqual(await paths(ufs.list('')), names));
    const pages = seen.filter((r) => r.op === 'LISTSTATUS_BATCH');
    assert.deepEqual(pages.map((r) => r.query.get('startAfter')), [null, 'f2', 'f5', 'f8']);
    assert.equal(seen.filter((r) => r.op === 'GETXATTRS').length, 10, 'one GETXATTRS per file, for its ETag');
  });

  it('falls back to LISTSTATUS where LISTSTATUS_BATCH is unknown', async () => {
    const writer = store();
    for (const n of ['b', 'a', 'c', 'd']) await writer.write(`dir/${n}`, Buffer.from(n));
    server.features.batchListing = false;
    try {
      const reader = store({ user: 'ana' }, `/t${roots}`);
      const seen = await requestsDuring(async () => assert.deepEqual(await paths(reader.list('dir')), ['dir/a', 'dir/b', 'dir/c', 'dir/d']));
      assert.deepEqual(seen.filter((r) => r.op.startsWith('LISTSTATUS')).map((r) => r.op), ['LISTSTATUS_BATCH', 'LISTSTATUS']);
      const again = await requestsDuring(() => paths(reader.list('dir')));
      assert.deepEqual(again.filter((r) => r.op.startsWith('LISTSTATUS')).map((r) => r.op), ['LISTSTATUS'], 'asked once');
    } finally {
      server.features.batchListing = true;
    }
  });

  it('lists non-ASCII names, which HDFS sorts first, in byte order, resumable after every entry', async () => {
    const ufs = store();
    const files = ['é', 'e', 'aé/x', 'az', 'sub/a', 'sub-x', 'sub.y', 'sub0', '日本/語', '😀', 'z'];
    for (const f of files) await ufs.write(f, Buffer.from(f));
    const entries: UfsStatus[] = [];
    for await (const e of ufs.list('')) entries.push(e);
    const keys = entries.map(listingKey);
    assert.deepEqual(keys, [...keys].sort(compareKeys));
    for (let i = 0; i < entries.length; i++) assert.deepEqual(await paths(ufs.list('', { startAfter: keys[i] })), entries.slice(i + 1).map((e) => e.path), `after ${keys[i]}`);
    const all = await paths(ufs.list('', { recursive: true }));
    assert.deepEqual(all, [...files].sort(compareKeys));
    for (let i = 0; i < all.length; i++) assert.deepEqual(await paths(ufs.list('', { recursive: true, startAfter: all[i] })), all.slice(i + 1));
  });

  it('continues a listing stopped after a page instead of reading the directory again', async () => {
    const ufs = store();
    const names = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, '0')}`);
    for (const n of names) await ufs.write(n, Buffer.from(n));
    const got: string[] = [];
    const seen = await requestsDuring(async () => {
      let startAfter: string | undefined;
      for (;;) {
        const page: string[] = [];
        let more = false;
        for await (const e of ufs.list('', { startAfter })) {
          if (page.length === 10) {
            more = true;
            break;
          }
          page.push(e.path);
        }
        got.push(...page);
        if (!more) break;
        startAfter = page.at(-1);
      }
    });
    assert.deepEqual(got, names);
    assert.equal(seen.filter((r) => r.op === 'LISTSTATUS_BATCH').length, 10, 'each HDFS page read once');
  });

  it('replaces files by delete-then-rename where the server ignores rename options', async () => {
    const ufs = store();
    server.features.renameOptions = false;
    try {
      await ufs.write('f', Buffer.from('first'));
      const seen = await requestsDuring(() => ufs.write('f', Buffer.from('second')));
      assert.deepEqual(seen.filter((r) => ['RENAME', 'DELETE'].includes(r.op)).map((r) => `${r.op} ${r.query.get('renameoptions') ?? ''}`), ['RENAME OVERWRITE', 'DELETE ', 'RENAME ']);
      assert.equal(await text(ufs, 'f'), 'second');
      await ufs.write('g', Buffer.from('g'));
      await ufs.rename('g', 'f');
      assert.equal(await text(ufs, 'f'), 'g');
      await ufs.mkdir('d');
      await rejectsWith(ufs.rename('f', 'd'), 'FAILED_PRECONDITION', 'a directory is in the way');
      await ufs.rename('f', 'new/dir/f');
      assert.deepEqual(await paths(ufs.list('', { recursive: true })), ['new/dir/f']);
    } finally {
      server.features.renameOptions = true;
    }
  });

  it('hides what a crashed write left behind, and deletes a directory holding only that', async () => {
    const ufs = store();
    await ufs.mkdir('dir');
    const location = hdfsLocation(parseStoreUri(`webhdfs://127.0.0.1:${server.namenodePort}/`), undefined);
    const client = new HdfsClient(location.base, { user: 'ana' }, { maxSockets: 2 });
    await client.create(`/t${roots}/dir/.dora-tmp-0123456789abcdef`, Readable.from([Buffer.from('partial')]), undefined, undefined);
    await client.close();
    assert.deepEqual(await paths(ufs.list('', { recursive: true })), []);
    await ufs.delete('dir');
    await rejectsWith(ufs.stat('dir'), 'NOT_FOUND');
  });

  it('keeps a file’s version and ETag through a rename, and gives a new file under its name a new version', async () => {
    const ufs = store();
    const written = await ufs.write('a', Buffer.from('same'));
    await ufs.rename('a', 'b');
    const moved = await ufs.stat('b');
    assert.deepEqual([moved.version, moved.etag], [written.version, written.etag]);
    const again = await ufs.write('a', Buffer.from('same'));
    assert.notEqual(again.version, written.version);
  });

  it('keeps no MD5 or attributes with xattrs=false, and says so where the server refuses them', async () => {
    server.features.xattrs = false;
    try {
      const plain = store({ user: 'ana', xattrs: 'false' });
      const written = await plain.write('f', Buffer.from('x'), { contentType: 'text/plain', metadata: { a: 'b' } });
      assert.equal(written.etag, undefined);
      const status = await plain.stat('f');
      assert.deepEqual([status.etag, status.attributes], [undefined, undefined]);
      await rejectsWith(store().write('f', Buffer.from('x')), 'FAILED_PRECONDITION', 'XAttrs has been disabled', 'xattrs=false');
    } finally {
      server.features.xattrs = true;
    }
    await rejectsWith(store().write('big', Buffer.from('x'), { metadata: { big: 'x'.repeat(20_000) } }), 'INVALID_ARGUMENT', 'too big');
  });

  it('translates WebHDFS exceptions to dora codes', async () => {
    const ufs = store();
    await ufs.write('file', Buffer.from('x'));
    await ufs.write('dir/x', Buffer.from('x'));
    await rejectsWith(ufs.write('file/below', Buffer.from('x')), 'NOT_A_DIRECTORY', 'a parent is a file');
    await rejectsWith(ufs.mkdir('file'), 'ALREADY_EXISTS');
    await rejectsWith(ufs.write('dir', Buffer.from('x')), 'IS_A_DIRECTORY');
    await rejectsWith(ufs.delete('dir'), 'DIRECTORY_NOT_EMPTY', 'is non empty');
    await rejectsWith(ufs.write('colon:name', Buffer.from('x')), 'INVALID_ARGUMENT', 'Invalid path name');
    await rejectsWith(ufs.write('.dora-tmp-mine', Buffer.from('x')), 'INVALID_ARGUMENT', 'reserved');
    await rejectsWith(store({ user: 'reader' }, `/t${roots}`).mkdir('new'), 'PERMISSION_DENIED', 'user=reader');
  });

  it('reports a 503, a standby namenode and safe mode as UNAVAILABLE, retryable', async () => {
    const ufs = store();
    await ufs.mkdir('');
    for (const [outage, call, fragment] of [['unavailable', () => ufs.stat(''), 'HTTP 503'], ['standby', () => ufs.stat(''), 'standby'], ['safemode', () => ufs.mkdir('x'), 'safe mode']] as const) {
      server.setOutage(outage);
      try {
        const error = await rejectsWith(call(), 'UNAVAILABLE', fragment);
        assert.equal(error.retryable, true);
      } finally {
        server.setOutage(undefined);
      }
    }
    await ufs.stat('');
  });

  it('reports answers it cannot use (HTML from a proxy, endless redirects) as UNAVAILABLE', async () => {
    const proxy = createServer((req, res) => {
      if (req.url?.includes('op=OPEN') === true) return void res.writeHead(307, { location: req.url }).end();
      if (req.url?.includes('/html') === true) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      const status = { pathSuffix: '', type: 'FILE', length: 5, modificationTime: 1, fileId: 16386 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.url?.includes('GETXATTRS') === true ? { XAttrs: [] } : { FileStatus: status }));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const ufs = store({ user: 'ana', endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` }, '/');
      await rejectsWith(ufs.stat('html'), 'UNAVAILABLE', 'something other than JSON');
      await rejectsWith(ufs.read('loop'), 'UNAVAILABLE', 'more than 4 redirects');
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('fails a read whose answer ends short of its length', async () => {
    const short = exactLength(Readable.from([Buffer.from('abc')]), 5, () => new Error('ended early'));
    await assert.rejects(readAll(short), /ended early/);
    assert.equal((await readAll(exactLength(Readable.from([Buffer.from('abcde')]), 5, () => new Error('no')))).toString(), 'abcde');
  });
});
