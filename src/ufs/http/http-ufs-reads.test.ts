import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readAll } from '../../common/streams.js';
import { rejectsWith } from '../../testing/assertions.js';
import { startNginxServer, type NginxServer } from '../../testing/nginx-server.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';

const registry = createDefaultUfsRegistry();

const servers: Server[] = [];
after(() => Promise.all(servers.map((server) => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
}))));

/** A node:http server on a free port, closed (with its connections) when the file's tests end. */
async function listen(handler: RequestListener): Promise<{ url: string }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('HttpUfs reads from a server that ignores Range', () => {
  const data = randomBytes(256 * 1024 + 7);
  const seen: IncomingHttpHeaders[] = [];
  let ufs: UnderFileSystem;

  before(async () => {
    const { url } = await listen((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-length': data.length, etag: '"v1"' });
      res.end(req.method === 'HEAD' ? undefined : data);
    });
    ufs = await registry.create(`${url}/files/`);
  });
  after(() => ufs.close());

  it('gives exactly the requested bytes, skipping and cutting the whole file it is sent', async () => {
    const cases: [number, number | undefined][] = [[0, 10], [1000, 5000], [65_536, 65_536], [250_000, undefined], [data.length - 1, 100], [7, undefined]];
    for (const [offset, length] of cases) {
      const { stream, status } = await ufs.read('big', { offset, length });
      const expected = data.subarray(offset, length === undefined ? undefined : offset + length);
      assert.ok((await readAll(stream)).equals(expected), `range ${offset}+${length}`);
      assert.equal(status.size, data.length);
      assert.equal(status.version, '"v1"');
    }
    assert.equal(seen.at(-1)?.range, 'bytes=7-', 'it asked for a range all the same');
  });

  it('reads nothing at the end, refuses offsets past it, and still answers after cut reads', async () => {
    assert.equal((await readAll((await ufs.read('big', { offset: data.length })).stream)).length, 0);
    await rejectsWith(ufs.read('big', { offset: data.length + 1 }), 'OUT_OF_RANGE', 'has only');
    assert.ok((await readAll((await ufs.read('big')).stream)).equals(data));
  });
});

describe('HttpUfs versions', () => {
  const files = new Map<string, { body: string; headers: Record<string, string> }>();
  const ifMatch: (string | undefined)[] = [];
  let ufs: UnderFileSystem;
  const modified = 'Wed, 21 Oct 2015 07:28:00 GMT';

  before(async () => {
    files.set('strong', { body: 'strong one', headers: { etag: '"s1"', 'last-modified': modified } });
    files.set('weak', { body: 'weak one', headers: { etag: 'W/"w1"' } });
    files.set('dated', { body: 'dated one', headers: { 'last-modified': modified } });
    files.set('bare', { body: 'bare one', headers: {} });
    const { url } = await listen((req, res) => {
      const file = files.get((req.url ?? '').slice('/v/'.length));
      if (req.method === 'GET') ifMatch.push(req.headers['if-match']);
      if (file === undefined) return void res.writeHead(404).end();
      const tag = file.headers['etag'];
      if (req.headers['if-match'] !== undefined && req.headers['if-match'] !== tag) return void res.writeHead(412).end();
      res.writeHead(200, { ...file.headers, 'content-length': Buffer.byteLength(file.body) });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    });
    ufs = await registry.create(`${url}/v/`);
  });
  after(() => ufs.close());

  it('is the ETag as sent, else Last-Modified and size, else the size alone', async () => {
    const strong = await ufs.stat('strong');
    assert.equal(strong.version, '"s1"');
    assert.equal(strong.etag, 's1');
    assert.equal(strong.mtimeMs, Date.parse(modified));
    const weak = await ufs.stat('weak');
    assert.equal(weak.version, 'W/"w1"');
    assert.equal(weak.etag, undefined, 'a weak ETag is no content hash');
    assert.equal((await ufs.stat('dated')).version, `${Date.parse(modified)}-9`);
    const bare = await ufs.stat('bare');
    assert.deepEqual([bare.version, bare.mtimeMs], ['8', 0]);
    assert.equal((await readAll((await ufs.read('bare', { expectVersion: '8' })).stream)).toString(), 'bare one', 'still readable');
  });

  it('pins reads with If-Match for a strong ETag and checks the answer for the others', async () => {
    const before = Object.fromEntries(await Promise.all(['strong', 'weak', 'dated', 'bare'].map(async (n) => [n, (await ufs.stat(n)).version] as const)));
    files.set('strong', { body: 'strong two', headers: { etag: '"s2"' } });
    files.set('weak', { body: 'weak two', headers: { etag: 'W/"w2"' } });
    files.set('dated', { body: 'dated two', headers: { 'last-modified': 'Thu, 22 Oct 2015 07:28:00 GMT' } });
    files.set('bare', { body: 'bare three', headers: {} });
    ifMatch.length = 0;
    for (const name of ['strong', 'weak', 'dated', 'bare']) {
      await rejectsWith(ufs.read(name, { expectVersion: before[name], offset: 1 }), 'FAILED_PRECONDITION', 'changed');
    }
    assert.deepEqual(ifMatch, ['"s1"', undefined, undefined, undefined], 'If-Match only for the strong ETag');
    const { status } = await ufs.read('strong', { expectVersion: '"s2"' });
    assert.equal(status.version, '"s2"');
  });
});

describe('HttpUfs versions on nginx', () => {
  let nginx: NginxServer;
  let ufs: UnderFileSystem;
  before(async () => {
    nginx = await startNginxServer();
    await mkdir(join(nginx.root, 'v'));
    ufs = await registry.create(`${nginx.url}/v/`);
  });
  after(async () => {
    await ufs.close();
    await nginx.stop();
  });

  it('changes when the file changes, even to content of the same size', async () => {
    const file = join(nginx.root, 'v', 'data');
    await writeFile(file, 'version one');
    const first = await ufs.stat('data');
    assert.match(first.version, /^"[0-9a-f]+-b"$/, 'nginx sends its "mtime-size" ETag');
    await writeFile(file, 'version two');
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    const second = await ufs.stat('data');
    assert.notEqual(second.version, first.version);
    await rejectsWith(ufs.read('data', { expectVersion: first.version }), 'FAILED_PRECONDITION');
    await rejectsWith(ufs.read('data', { expectVersion: first.version, offset: 11 }), 'FAILED_PRECONDITION');
    const { stream, status } = await ufs.read('data', { expectVersion: second.version, offset: 8 });
    assert.equal((await readAll(stream)).toString(), 'two');
    assert.equal(status.version, second.version);
  });
});

describe('HttpUfs errors', () => {
  let ufs: UnderFileSystem;
  let short: UnderFileSystem;
  before(async () => {
    const { url } = await listen((req, res) => {
      const status = Number(/\/(\d{3})/.exec(req.url ?? '')?.[1] ?? 404);
      res.writeHead(status, { 'content-length': 0 }).end();
    });
    ufs = await registry.create(`${url}/`);
    const cut = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(100));
      setTimeout(() => res.destroy(), 20);
    });
    short = await registry.create(`${cut.url}/`);
  });
  after(() => Promise.all([ufs.close(), short.close()]));

  it('maps statuses: 503 and 429 to retryable UNAVAILABLE, 401 and 403 to PERMISSION_DENIED, 404 to NOT_FOUND', async () => {
    assert.equal((await rejectsWith(ufs.stat('503'), 'UNAVAILABLE', 'HTTP 503')).retryable, true);
    assert.equal((await rejectsWith(ufs.read('500/x'), 'UNAVAILABLE')).retryable, true);
    assert.equal((await rejectsWith(ufs.read('429'), 'UNAVAILABLE', 'slow down')).retryable, true);
    assert.equal((await rejectsWith(ufs.stat('401'), 'PERMISSION_DENIED', 'credentials')).retryable, false);
    await rejectsWith(ufs.read('403'), 'PERMISSION_DENIED', 'Cannot read "http://', '/403" at offset 0');
    await rejectsWith(ufs.stat('404'), 'NOT_FOUND');
    await rejectsWith(collect(ufs.list('502')), 'UNAVAILABLE');
    await rejectsWith(collect(ufs.list('403')), 'PERMISSION_DENIED', 'Cannot list');
  });

  it('fails a body cut short with UNAVAILABLE, retryable', async () => {
    const { stream } = await short.read('file');
    assert.equal((await rejectsWith(readAll(stream), 'UNAVAILABLE', 'Cannot read')).retryable, true);
    const sliced = await short.read('file', { offset: 50, length: 500 });
    assert.equal((await rejectsWith(readAll(sliced.stream), 'UNAVAILABLE')).retryable, true);
  });
});

describe('HttpUfs redirects', () => {
  it("follows a redirect to another server without sending it the store's headers", async () => {
    const headersAt: Record<string, IncomingHttpHeaders> = {};
    const target = await listen((req, res) => {
      headersAt['target'] = req.headers;
      res.writeHead(200, { 'content-length': 5, etag: '"t"' }).end(req.method === 'HEAD' ? undefined : 'moved');
    });
    const origin = await listen((req, res) => {
      headersAt['origin'] = req.headers;
      res.writeHead(302, { location: `${target.url}/elsewhere/file`, 'content-length': 0 }).end();
    });
    const ufs = await registry.create(`${origin.url}/root/`, { 'header.X-Token': 'secret' });
    try {
      assert.equal((await readAll((await ufs.read('moved')).stream)).toString(), 'moved');
      assert.equal((await ufs.stat('moved')).size, 5);
      assert.equal(headersAt['origin']?.['x-token'], 'secret');
      assert.equal(headersAt['target']?.['x-token'], undefined);
    } finally {
      await ufs.close();
    }
  });
});

async function collect(listing: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const entry of listing) out.push(entry);
  return out;
}
