import { until } from './cluster-helpers.js';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { startFaultProxy, type FaultProxy } from '../src/testing/fault-proxy.js';
import { startMotoServer } from '../src/testing/moto-server.js';
import { createBucket, s3Options } from '../src/testing/s3-fixture.js';
import type { S3ServerHandle } from '../src/testing/s3-server-handle.js';
import { createDefaultUfsRegistry } from '../src/ufs/ufs-registry.js';
import type { UnderFileSystem } from '../src/ufs/under-file-system.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The worker API, spoken with plain fetch so these tests do not depend on the SDK. */
class Api {
  constructor(readonly base: string) {}
  async read(path: string, range: { offset?: number; length?: number } = {}): Promise<Buffer> {
    const q = new URLSearchParams({ path, ...(range.offset === undefined ? {} : { offset: String(range.offset) }), ...(range.length === undefined ? {} : { length: String(range.length) }) });
    const res = await fetch(`${this.base}/v1/read?${q}`);
    if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status, body: await res.json() });
    return Buffer.from(await res.arrayBuffer());
  }
  /** The sha256 of a whole file, streamed rather than held. */
  async digest(path: string): Promise<string> {
    const res = await fetch(`${this.base}/v1/read?${new URLSearchParams({ path })}`);
    if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
    const hash = createHash('sha256');
    for await (const chunk of res.body) hash.update(chunk);
    return hash.digest('hex');
  }
  async call(method: string, endpoint: string, params: Record<string, string>, body?: Buffer): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${this.base}${endpoint}?${new URLSearchParams(params)}`, { method, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  }
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${this.base}/metrics`)).text();
    assert.ok(text.includes(`# TYPE ${name} `), `the worker exports no metric ${name}`);
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (match?.[1] !== name) continue;
      if (Object.entries(labels).every(([k, v]) => (match[2] ?? '').includes(`${k}="${v}"`))) sum += Number(match[3]);
    }
    return sum;
  }
}

describe('a worker caching an S3 store', () => {
  let moto: S3ServerHandle;
  let proxy: FaultProxy;
  let dataDir: string;
  let dora: Embedded;
  let api: Api;
  let bucket: UnderFileSystem;

  const flags = { 'cache.pageSize': '1MiB', 'cache.memory.capacity': '16MiB', 'cache.disk.capacity': '96MiB', 'metadata.syncInterval': '300ms', 'ufs.retry.baseDelay': '10ms' };

  before(async () => {
    moto = await startMotoServer();
    await createBucket(moto, 'data');
    proxy = await startFaultProxy(moto.endpoint);
    dataDir = await mkdtemp(join(tmpdir(), 'dora-worker-'));
    dora = await startEmbedded({ dataDir, flags });
    await dora.mounts.add({ path: '/s3', uri: 's3://data/', options: { ...s3Options(moto), endpoint: proxy.url } });
    api = new Api(dora.workerUrl);
    bucket = await createDefaultUfsRegistry().create('s3://data/', s3Options(moto)); // straight to the store, for setup
  });
  after(async () => {
    await dora.stop();
    await bucket.close();
    await proxy.stop();
    await moto.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const storeGets = (key: string): number => proxy.log.filter((r) => r.method === 'GET' && r.path.startsWith(`/data/${key}`) && !r.path.includes('list-type')).length;

  it('serves a second read from the cache, as the metrics show', async () => {
    const data = randomBytes(3 * MiB + 123);
    await bucket.write('twice.bin', data);
    const pagesBefore = dora.worker.cacheSummary().pages;
    assert.equal(sha(await api.read('/s3/twice.bin')), sha(data));
    // The bytes reach the reader before the pages are stored: under load the last may still be on its way in.
    await until(() => Promise.resolve(dora.worker.cacheSummary().pages >= pagesBefore + 4), 'the four pages are cached');
    const hitsBefore = await api.metric('dora_cache_page_requests_total', { result: 'hit' });
    const fromStoreBefore = await api.metric('dora_cache_served_bytes_total', { source: 'store' });
    const gets = storeGets('twice.bin');
    assert.equal(sha(await api.read('/s3/twice.bin')), sha(data));
    assert.equal(storeGets('twice.bin'), gets, 'no request reached the store');
    assert.equal(await api.metric('dora_cache_page_requests_total', { result: 'hit' }), hitsBefore + 4);
    assert.equal(await api.metric('dora_cache_served_bytes_total', { source: 'store' }), fromStoreBefore);
    const ranged = await api.read('/s3/twice.bin', { offset: MiB - 10, length: 20 });
    assert.ok(ranged.equals(data.subarray(MiB - 10, MiB + 10)));
  });

  it('reads a file overwritten in the store anew after the sync interval, never mixed', async () => {
    const first = Buffer.alloc(2 * MiB, 'a');
    const second = Buffer.alloc(2 * MiB, 'b');
    await bucket.write('changing.bin', first);
    assert.ok((await api.read('/s3/changing.bin')).equals(first));
    await bucket.write('changing.bin', second);
    const soon = await api.read('/s3/changing.bin');
    assert.ok(soon.equals(first) || soon.equals(second), 'within the interval: the old version whole, or the new one whole');
    await new Promise((r) => setTimeout(r, 400));
    assert.ok((await api.read('/s3/changing.bin')).equals(second));
  });

  it('cuts a read short, never mixing versions, when the file changes in the store mid-read', async () => {
    const old = Buffer.alloc(40 * MiB, 'o');
    await bucket.write('midread.bin', old);
    const res = await fetch(`${dora.workerUrl}/v1/read?${new URLSearchParams({ path: '/s3/midread.bin' })}`);
    assert.equal(res.status, 200);
    const reader = (res.body ?? assert.fail('no body')).getReader();
    const first = await reader.read();
    await bucket.write('midread.bin', Buffer.alloc(40 * MiB, 'n'));
    let received = first.value?.length ?? 0;
    let sawNew = (first.value ?? new Uint8Array()).includes(0x6e);
    const failed = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return false;
        received += value.length;
        sawNew ||= value.includes(0x6e);
      }
    })().catch(() => true);
    assert.equal(sawNew, false, 'no byte of the new version was served');
    assert.ok(failed && received < old.length, `the read was cut short (${received} of ${old.length} bytes)`);
    await new Promise((r) => setTimeout(r, 350));
    assert.ok((await api.read('/s3/midread.bin', { offset: 39 * MiB, length: 10 })).equals(Buffer.alloc(10, 'n')), 'the next read sees the new version');
  });

  it('fetches each page of a cold 64 MiB file once for 50 concurrent readers', async () => {
    const data = randomBytes(64 * MiB);
    await bucket.write('hot.bin', data);
    const before = storeGets('hot.bin');
    const digests = await Promise.all(Array.from({ length: 50 }, () => api.digest('/s3/hot.bin')));
    for (const d of digests) assert.equal(d, sha(data));
    assert.equal(storeGets('hot.bin') - before, 64, 'one GET per 1 MiB page');
  });

  it('answers bad requests with clear errors', async () => {
    await bucket.write('dir/file', Buffer.from('x'));
    const cases: [string, Record<string, string>, number, string][] = [
      ['/v1/read', { path: '/s3/missing' }, 404, 'NOT_FOUND'],
      ['/v1/read', { path: '/s3/dir' }, 409, 'IS_A_DIRECTORY'],
      ['/v1/read', { path: '/s3/dir/file', offset: '5' }, 416, 'OUT_OF_RANGE'],
      ['/v1/read', { path: '/s3/../etc/passwd' }, 400, 'INVALID_ARGUMENT'],
      ['/v1/read', { path: '/s3/dir/file', offset: '-1' }, 400, 'INVALID_ARGUMENT'],
      ['/v1/stat', {}, 400, 'INVALID_ARGUMENT'],
      ['/v1/list', { path: '/s3/dir/file' }, 409, 'NOT_A_DIRECTORY'],
    ];
    for (const [endpoint, params, status, code] of cases) {
      const res = await api.call('GET', endpoint, params);
      assert.equal(res.status, status, `${endpoint} ${JSON.stringify(params)}`);
      assert.equal((res.json as { error: { code: string } }).error.code, code);
    }
    const past = await api.read('/s3/dir/file', { offset: 1, length: 100 });
    assert.equal(past.length, 0, 'a range from the end is empty');
  });

  it('refuses writes to a read-only mount and writes nothing', async () => {
    await dora.mounts.add({ path: '/ro', uri: 's3://data/ro/', options: s3Options(moto), readOnly: true });
    const res = await api.call('PUT', '/v1/write', { path: '/ro/new.txt' }, Buffer.from('nope'));
    assert.equal(res.status, 403);
    assert.match((res.json as { error: { message: string } }).error.message, /read-only/);
    await assert.rejects(bucket.stat('ro/new.txt'));
  });

  it('writes through to the store and caches what it wrote', async () => {
    const data = randomBytes(2 * MiB + 5);
    const res = await api.call('PUT', '/v1/write', { path: '/s3/written.bin' }, data);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(sha(await streamAll(bucket, 'written.bin')), sha(data), 'the store has it');
    await new Promise((r) => setTimeout(r, 200)); // pages are cached from the spool in the background
    const gets = storeGets('written.bin');
    assert.equal(sha(await api.read('/s3/written.bin')), sha(data));
    assert.equal(storeGets('written.bin'), gets, 'read back from the cache');
    const through = await api.call('PUT', '/v1/write', { path: '/s3/through.bin', writeType: 'THROUGH' }, data);
    assert.equal(through.status, 200);
    assert.equal(sha(await api.read('/s3/through.bin')), sha(data));
  });

  it('says what its cache holds under a directory, by entry, without asking the store', async () => {
    const one = randomBytes(MiB + 1);
    const two = randomBytes(2 * MiB + 3);
    await bucket.write('held/a.bin', one);
    await bucket.write('held/sub/b.bin', two);
    await bucket.write('held/sub/c.bin', randomBytes(10));
    await bucket.write('held/cold.bin', randomBytes(10));
    await api.read('/s3/held/a.bin');
    await api.read('/s3/held/sub/b.bin');
    await dora.worker.cache.flush({ untilIdle: true });
    const requests = proxy.log.length;
    const res = await api.call('GET', '/v1/held-children', { path: '/s3/held' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const { path, children } = res.json as { path: string; children: Array<{ name: string; pages: number; bytes: number; files: number }> };
    assert.equal(path, '/s3/held');
    const tiers = dora.worker.cacheSummary().tiers.length; // a page counts once per tier holding it
    assert.deepEqual(children.map((c) => [c.name, c.files]), [['a.bin', 1], ['sub', 1]], 'the unread files are not held');
    const [a, sub] = children;
    assert.ok(a!.pages >= 2 && a!.pages <= 2 * tiers && a!.bytes >= one.length && a!.bytes <= tiers * one.length, JSON.stringify(a));
    assert.ok(sub!.pages >= 3 && sub!.bytes >= two.length && sub!.bytes <= tiers * two.length, JSON.stringify(sub));
    assert.equal(proxy.log.length, requests, 'the store was not asked');
    assert.equal((await api.call('GET', '/v1/held-children', { path: '/s3/held/nothing-here' })).status, 200);
    assert.deepEqual(((await api.call('GET', '/v1/held-children', { path: '/s3/held/sub' })).json as { children: Array<{ name: string }> }).children.map((c) => c.name), ['b.bin']);
  });

  it('finishes a read cleanly or fails it clearly when the store goes down mid-read', async () => {
    const data = randomBytes(6 * MiB);
    await bucket.write('flaky.bin', data);
    proxy.cutNextResponse(100_000, { match: (r) => r.method === 'GET' && r.path.startsWith('/data/flaky.bin') });
    assert.equal(sha(await api.read('/s3/flaky.bin')), sha(data), 'a cut page fetch is retried');
    proxy.failNext(1000, { match: (r) => r.path.startsWith('/data/gone.bin') });
    await bucket.write('gone.bin', Buffer.from('x'));
    const res = await api.call('GET', '/v1/read', { path: '/s3/gone.bin' });
    assert.equal(res.status, 503);
    assert.equal((res.json as { error: { retryable: boolean } }).error.retryable, true);
    proxy.reset();
  });
});

describe('a worker reading 4× its cache size', () => {
  it('keeps memory and disk within their quotas', async () => {
    const moto = await startMotoServer();
    await createBucket(moto, 'quota');
    const dataDir = await mkdtemp(join(tmpdir(), 'dora-quota-'));
    const dora = await startEmbedded({ dataDir, flags: { 'cache.pageSize': '1MiB', 'cache.memory.capacity': '4MiB', 'cache.disk.capacity': '8MiB' } });
    const bucket = await createDefaultUfsRegistry().create('s3://quota/', s3Options(moto));
    try {
      await dora.mounts.add({ path: '/q', uri: 's3://quota/', options: s3Options(moto) });
      const api = new Api(dora.workerUrl);
      for (let i = 0; i < 6; i++) await bucket.write(`f${i}.bin`, randomBytes(8 * MiB)); // 48 MiB = 4 × (4 + 8) MiB
      for (let i = 0; i < 6; i++) {
        await Promise.all([api.read(`/q/f${i}.bin`), api.read(`/q/f${(i + 3) % 6}.bin`, { offset: MiB, length: 3 * MiB })]);
        const summary = (await api.call('GET', '/v1/cache', {})).json as { tiers: { name: string; bytes: number; capacityBytes: number }[] };
        for (const tier of summary.tiers) assert.ok(tier.bytes <= tier.capacityBytes, `${tier.name}: ${tier.bytes} <= ${tier.capacityBytes}`);
        // Page files add a small header each to the data bytes the quota counts.
        assert.ok((await diskBytes(join(dataDir, 'cache'))) <= 8 * MiB * 1.01, 'the disk tier holds its quota on disk too');
      }
      assert.ok((await api.metric('dora_cache_tier_evictions_total')) > 0);
    } finally {
      await dora.stop();
      await bucket.close();
      await moto.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a worker restarted on the same data directory', () => {
  it('keeps its disk cache and re-fetches a corrupted page instead of serving it', async () => {
    const moto = await startMotoServer();
    await createBucket(moto, 'keep');
    const proxy = await startFaultProxy(moto.endpoint);
    const dataDir = await mkdtemp(join(tmpdir(), 'dora-restart-'));
    const flags = { 'cache.pageSize': '1MiB', 'cache.memory.capacity': '0', 'cache.disk.capacity': '64MiB', 'metadata.syncInterval': '-1' };
    const data = randomBytes(4 * MiB);
    const store = await createDefaultUfsRegistry().create('s3://keep/', s3Options(moto));
    await store.write('kept.bin', data);
    let dora: Embedded | undefined;
    try {
      dora = await startEmbedded({ dataDir, flags: { ...flags, 'metadata.syncInterval': '1h' } });
      await dora.mounts.add({ path: '/k', uri: 's3://keep/', options: { ...s3Options(moto), endpoint: proxy.url } });
      assert.equal(sha(await new Api(dora.workerUrl).read('/k/kept.bin')), sha(data));
      await dora.stop();
      dora = undefined;

      const pageGets = (): number => proxy.log.filter((r) => r.method === 'GET' && r.path.startsWith('/keep/kept.bin')).length;
      const before = pageGets();
      dora = await startEmbedded({ dataDir, flags: { ...flags, 'metadata.syncInterval': '1h' } });
      const api = new Api(dora.workerUrl);
      assert.equal(sha(await api.read('/k/kept.bin')), sha(data));
      assert.equal(pageGets(), before, 'every page came from the restored disk cache');

      const pages = await findFiles(join(dataDir, 'cache'), '.page');
      const victim = pages[0] ?? assert.fail('no page files');
      const bytes = await readFile(victim);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      await writeFile(victim, bytes);
      assert.equal(sha(await api.read('/k/kept.bin')), sha(data), 'the corrupt page was not served');
      assert.equal(pageGets(), before + 1, 'exactly the corrupt page was fetched again');
      await dora.stop();
      dora = undefined;
    } finally {
      await dora?.stop();
      await store.close();
      await proxy.stop();
      await moto.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

async function streamAll(ufs: UnderFileSystem, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of (await ufs.read(path)).stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function findFiles(dir: string, suffix: string): Promise<string[]> {
  const out: string[] = [];
  // The worker may evict (and remove directories) while we walk: try again on a vanished one.
  let entries;
  for (let attempt = 0; ; attempt++) {
    try {
      entries = await readdir(dir, { withFileTypes: true, recursive: true });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 5) throw error;
    }
  }
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(suffix)) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const file of await findFiles(dir, '.page')) total += (await stat(file).catch(() => ({ size: 0 }))).size; // evicted meanwhile
  return total;
}
