import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DoraError } from '../../common/errors.js';
import { readAll } from '../../common/streams.js';
import { rejectsWith, sha256 } from '../../testing/assertions.js';
import { startFaultProxy } from '../../testing/fault-proxy.js';
import { createSwiftContainer, swiftNames, swiftRequest, swiftTempAuthOptions } from '../../testing/swift-fixture.js';
import { startSwiftS3Server } from '../../testing/swift-s3-server.js';
import type { UfsStatus, UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';

const MiB = 1024 * 1024;
const swift = await startSwiftS3Server();
const registry = createDefaultUfsRegistry();
const opened: UnderFileSystem[] = [];
after(async () => {
  await Promise.all(opened.map((u) => u.close()));
  await swift.stop();
});

let n = 0;
/** A store on a fresh container, with 1 MiB segments past a 1 MiB threshold. */
async function fresh(options: Record<string, string> = {}): Promise<{ ufs: UnderFileSystem; container: string }> {
  const container = `slo-${n++}`;
  await createSwiftContainer(swift, container);
  const ufs = await registry.create(`swift://${container}/pre`, { ...swiftTempAuthOptions(swift), multipartThreshold: '1MiB', partSize: '1MiB', ...options });
  opened.push(ufs);
  return { ufs, container };
}

/** Swift's ETag of a static large object: the MD5 of its segments' MD5s. */
function sloEtag(data: Buffer, partSize: number): string {
  const hash = createHash('md5');
  for (let i = 0; i < data.length; i += partSize) hash.update(createHash('md5').update(data.subarray(i, i + partSize)).digest('hex'));
  return hash.digest('hex');
}

async function* chunked(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(listing: AsyncIterable<UfsStatus>): Promise<UfsStatus[]> {
  const out: UfsStatus[] = [];
  for await (const entry of listing) out.push(entry);
  return out;
}

describe('swift:// static large objects', () => {
  it('writes past the threshold as a static large object with segments in <container>_segments', async () => {
    const { ufs, container } = await fresh();
    const data = randomBytes(3 * MiB + 512 * 1024);
    const written = await ufs.write('big/file', data);
    const segments = await swiftNames(swift, `${container}_segments`);
    assert.equal(segments?.length, 4);
    for (const [i, name] of (segments ?? []).entries()) assert.match(name, new RegExp(`^pre/big/file/[0-9a-z]+-[0-9a-f]{12}/0000000${i}$`));
    const head = await swiftRequest(swift, 'HEAD', `/${container}/pre/big/file`);
    assert.equal(head.headers['x-static-large-object'], 'True');

    const status = await ufs.stat('big/file');
    assert.equal(status.version, sloEtag(data, MiB), "the version is Swift's SLO ETag");
    assert.equal(written.version, status.version);
    assert.equal(status.etag, undefined, 'an SLO has no MD5 of its content');
    assert.equal(status.size, data.length);
    const [listed] = await collect(ufs.list('big'));
    assert.equal(listed?.version, status.version, 'listings give the same version');

    const across = await ufs.read('big/file', { offset: MiB - 10, length: 2 * MiB + 20, expectVersion: status.version });
    assert.ok((await readAll(across.stream)).equals(data.subarray(MiB - 10, 3 * MiB + 10)));
    await rejectsWith(ufs.read('big/file', { expectVersion: createHash('md5').update(data).digest('hex') }), 'FAILED_PRECONDITION');
    assert.equal(sha256(await readAll((await ufs.read('big/file')).stream)), sha256(data));
  });

  it('keeps content type and metadata on a static large object', async () => {
    const { ufs } = await fresh();
    await ufs.write('typed', chunked(randomBytes(2 * MiB + 1), 100_000), { contentType: 'application/x-parquet', metadata: { owner: 'ana', 'x-note': 'with spaces' } });
    const status = await ufs.stat('typed');
    assert.deepEqual(status.attributes, { contentType: 'application/x-parquet', metadata: { owner: 'ana', 'x-note': 'with spaces' } });
  });

  it('deletes a static large object with its segments', async () => {
    const { ufs, container } = await fresh();
    await ufs.write('gone', randomBytes(2 * MiB + 5));
    assert.equal((await swiftNames(swift, `${container}_segments`))?.length, 3);
    await ufs.delete('gone');
    await rejectsWith(ufs.stat('gone'), 'NOT_FOUND');
    assert.deepEqual(await swiftNames(swift, `${container}_segments`), []);
  });

  it('deletes the segments of a static large object it replaces, by a large or a small file', async () => {
    const { ufs, container } = await fresh();
    await ufs.write('over', randomBytes(2 * MiB + 5));
    const first = await swiftNames(swift, `${container}_segments`);
    const second = randomBytes(3 * MiB);
    await ufs.write('over', chunked(second, 65_536));
    const now = await swiftNames(swift, `${container}_segments`);
    assert.equal(now?.length, 3);
    assert.ok(now?.every((name) => !first?.includes(name)), 'only the new upload\'s segments are left');
    assert.equal(sha256(await readAll((await ufs.read('over')).stream)), sha256(second));
    await ufs.write('over', Buffer.from('small'));
    assert.deepEqual(await swiftNames(swift, `${container}_segments`), []);
    assert.equal((await readAll((await ufs.read('over')).stream)).toString(), 'small');
  });

  it('deletes the segments of a failed upload and leaves the previous file', async () => {
    const { ufs, container } = await fresh();
    await ufs.write('kept', Buffer.from('old'));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* chunked(randomBytes(2 * MiB + 100), 65_536);
      throw new DoraError('UNAVAILABLE', 'the source broke');
    }
    await rejectsWith(ufs.write('kept', failing()), 'UNAVAILABLE', 'the source broke');
    assert.equal((await readAll((await ufs.read('kept')).stream)).toString(), 'old');
    assert.deepEqual((await swiftNames(swift, `${container}_segments`)) ?? [], []); // the container may not even exist
  });

  it('nests segments past maxManifestSegments in sub-manifests that read and delete as one', async () => {
    const { ufs, container } = await fresh({ maxManifestSegments: '3' });
    const data = randomBytes(7 * MiB + 5); // 8 segments: sub-manifests of 3, 3 and 2
    const written = await ufs.write('nested', chunked(data, 100_000));
    const names = (await swiftNames(swift, `${container}_segments`)) ?? [];
    assert.equal(names.filter((name) => /\/manifest-0000000\d$/.test(name)).length, 3);
    assert.equal(names.length, 8 + 3);
    assert.equal((await ufs.stat('nested')).version, written.version);
    assert.equal((await ufs.stat('nested')).size, data.length);
    assert.equal(sha256(await readAll((await ufs.read('nested')).stream)), sha256(data));
    const middle = await ufs.read('nested', { offset: 3 * MiB - 3, length: 6 });
    assert.ok((await readAll(middle.stream)).equals(data.subarray(3 * MiB - 3, 3 * MiB + 3)));
    await ufs.delete('nested');
    assert.deepEqual(await swiftNames(swift, `${container}_segments`), []);
  });

  it('puts segments in the segmentContainer option, creating it, and again when it goes', async () => {
    const segments = `elsewhere-${n}`;
    const { ufs, container } = await fresh({ segmentContainer: segments });
    await ufs.write('there', randomBytes(MiB + 1));
    assert.deepEqual(await swiftNames(swift, `${container}_segments`), undefined);
    assert.equal((await swiftNames(swift, segments))?.length, 2);
    await ufs.delete('there');
    assert.equal((await swiftRequest(swift, 'DELETE', `/${segments}`)).status, 204);
    const data = randomBytes(MiB + 2);
    await ufs.write('again', data);
    assert.equal((await swiftNames(swift, segments))?.length, 2);
    assert.equal(sha256(await readAll((await ufs.read('again')).stream)), sha256(data));
  });

  it('writes static large objects of any name, long names\' segments under a hash', async () => {
    const { ufs, container } = await fresh();
    const odd = 'odd/ünï cödé+%?#&=;';
    const long = `long/${'n'.repeat(1000)}`;
    const data = randomBytes(MiB + 7);
    for (const name of [odd, long]) {
      await ufs.write(name, data);
      assert.equal(sha256(await readAll((await ufs.read(name)).stream)), sha256(data), name);
    }
    const names = (await swiftNames(swift, `${container}_segments`)) ?? [];
    assert.equal(names.filter((name) => name.startsWith(`pre/${odd}/`)).length, 2);
    assert.equal(names.filter((name) => /^\.dora-long-names\/[0-9a-f]{64}\//.test(name)).length, 2);
    for (const name of [odd, long]) await ufs.delete(name);
    assert.deepEqual(await swiftNames(swift, `${container}_segments`), []);
  });

  it('deletes the segments when the manifest PUT fails, but not when its answer is lost', async () => {
    const container = `slo-${n++}`;
    await createSwiftContainer(swift, container);
    const proxy = await startFaultProxy(`http://127.0.0.1:${new URL(swift.authUrl).port}`);
    const ufs = await registry.create(`swift://${container}`, { ...swiftTempAuthOptions(swift), authUrl: `${proxy.url}/auth/v1.0`, multipartThreshold: '1MiB', partSize: '1MiB' });
    opened.push(ufs);
    try {
      const isManifestPut = (r: { method: string; path: string }): boolean => r.method === 'PUT' && r.path.includes('multipart-manifest=put');
      await ufs.write('file', Buffer.from('before'));
      proxy.failNext(1, { status: 503, code: 'ServiceUnavailable', match: isManifestPut });
      await rejectsWith(ufs.write('file', randomBytes(2 * MiB)), 'UNAVAILABLE');
      assert.equal((await readAll((await ufs.read('file')).stream)).toString(), 'before');
      assert.deepEqual(await swiftNames(swift, `${container}_segments`), []);

      // Swift answers 202 at once (heartbeats) and writes the manifest after; the answer is cut.
      // Whether the client sees the manifest or not, Swift writes it, and its segments must stay.
      proxy.cutNextResponse(0, { match: isManifestPut });
      const data = randomBytes(2 * MiB);
      const version = sloEtag(data, MiB);
      const written = await ufs.write('file', data).catch((error: unknown) => error);
      if (!(written instanceof DoraError)) assert.equal((written as UfsStatus).version, version);
      else assert.equal(written.code, 'UNAVAILABLE');
      for (let i = 0; i < 50 && (await ufs.stat('file')).version !== version; i++) await sleep(100);
      assert.equal(sha256(await readAll((await ufs.read('file')).stream)), sha256(data));
    } finally {
      await proxy.stop();
    }
  });

  it('holds at most uploadConcurrency segments, and a cancelled upload leaves no segments', async () => {
    const container = `slo-${n++}`;
    await createSwiftContainer(swift, container);
    const proxy = await startFaultProxy(`http://127.0.0.1:${new URL(swift.authUrl).port}`);
    const authUrl = `${proxy.url}/auth/v1.0`; // TempAuth names the proxy's address as storage URL
    const ufs = await registry.create(`swift://${container}`, { ...swiftTempAuthOptions(swift), authUrl, multipartThreshold: '1MiB', partSize: '1MiB', uploadConcurrency: '2' });
    opened.push(ufs);
    try {
      const isSegmentPut = (r: { method: string; path: string }): boolean => r.method === 'PUT' && r.path.includes(`/${container}_segments/`);
      proxy.stallNext(100, { match: isSegmentPut });
      let pulled = 0;
      async function* endless(): AsyncGenerator<Uint8Array> {
        for (;;) {
          pulled += 65_536;
          yield Buffer.alloc(65_536, 7);
        }
      }
      const controller = new AbortController();
      const cancelled = rejectsWith(ufs.write('endless', endless(), { signal: controller.signal }), 'CANCELLED');
      cancelled.catch(() => undefined); // awaited below, after the assertions
      let seen = -1;
      while (seen !== pulled) {
        seen = pulled;
        await sleep(300);
      }
      assert.equal(proxy.log.filter(isSegmentPut).length, 2, 'two segment PUTs in flight');
      // Two segments, plus a few chunks of read-ahead (the reader's one, the write's stream buffer).
      assert.ok(pulled <= 2 * MiB + 4 * 65_536, `pulled ${pulled} bytes`);
      proxy.reset();
      controller.abort();
      await cancelled;
      await rejectsWith(ufs.stat('endless'), 'NOT_FOUND');
      assert.deepEqual((await swiftNames(swift, `${container}_segments`)) ?? [], []);
    } finally {
      await proxy.stop();
    }
  });
});

describe('swift:// metadata', () => {
  it('round-trips any name and value, and writes plain ones as plain X-Object-Meta headers', async () => {
    const { ufs, container } = await fresh();
    const metadata = {
      'x-note': 'with spaces',
      owner: 'ana',
      under_score: 'kept',
      'ünï-cödé': 'välüé 日本',
      padded: '  spaces at both ends  ',
      lines: 'one\ntwo',
      empty: '',
      percent: '100% sure',
      'dora-enc-lookalike': 'not encoded by anyone else',
    };
    await ufs.write('meta', Buffer.from('x'), { metadata });
    assert.deepEqual((await ufs.stat('meta')).attributes?.metadata, metadata);
    const head = await swiftRequest(swift, 'HEAD', `/${container}/pre/meta`);
    assert.equal(head.headers['x-object-meta-x-note'], 'with spaces');
    assert.equal(head.headers['x-object-meta-owner'], 'ana');
    assert.equal(head.headers['x-object-meta-percent'], '100% sure');
  });

  it('reads UTF-8 values that other Swift clients write', async () => {
    const { ufs, container } = await fresh();
    // python-swiftclient sends UTF-8 bytes; undici sends a header's Latin-1 string as those bytes.
    const raw = Buffer.from('café', 'utf8').toString('latin1');
    const put = await swiftRequest(swift, 'PUT', `/${container}/pre/utf8`, { 'x-object-meta-word': raw, 'content-length': '0' });
    assert.equal(put.status, 201);
    assert.deepEqual((await ufs.stat('utf8')).attributes?.metadata, { word: 'café' });
  });
});
