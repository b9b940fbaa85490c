/** The SDK against the real embedded server (`dora start` in-process): coordinator, worker, local root. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import { readAll } from '../common/streams.js';
import { startEmbedded } from '../server/embedded.js';
import { DoraClient } from './dora-client.js';
import { ConsistentHashSelector } from '../hash/consistent-hash-selector.js';
import { refusingAddress } from '../testing/free-port.js';

type Embedded = Awaited<ReturnType<typeof startEmbedded>>;

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('DoraClient against the embedded server', () => {
  let dataDir: string;
  let embedded: Embedded;
  let client: DoraClient;
  const payload = randomBytes(5 * 1024 * 1024 + 123);

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dora-client-'));
    embedded = await startEmbedded({ dataDir });
    client = new DoraClient({ address: embedded.coordinatorUrl });
    await mkdir(join(dataDir, 'root', 'many'), { recursive: true });
    await Promise.all(Array.from({ length: 1234 }, (_, i) => writeFile(join(dataDir, 'root', 'many', `f${String(i).padStart(4, '0')}.txt`), `${i}\n`)));
  });

  after(async () => {
    await client.close();
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('write() then readFile() round-trips the bytes, and stat() describes the file', async () => {
    const written = await client.write('/round/trip.bin', payload);
    assert.equal(written.path, '/round/trip.bin');
    assert.equal(written.size, payload.length);
    const status = await client.stat('/round/trip.bin');
    assert.equal(status.kind, 'file');
    assert.equal(status.size, payload.length);
    assert.equal(status.mount, '/');
    assert.equal(sha256(await client.readFile('/round/trip.bin')), sha256(payload));
    assert.equal(sha256(await client.readFile('/round/trip.bin')), sha256(payload), 'a second read, from the cache, is the same');
  });

  it('write() accepts a stream of chunks with a declared size', async () => {
    const chunks = Readable.from([payload.subarray(0, 1000), payload.subarray(1000, 300_000)]);
    await client.write('/round/streamed.bin', chunks, { size: 300_000, writeType: 'THROUGH' });
    assert.deepEqual(await client.readFile('/round/streamed.bin'), payload.subarray(0, 300_000));
  });

  it('read() serves byte ranges, clamped to the end', async () => {
    await client.write('/ranges.bin', payload);
    const middle = await readAll(await client.read('/ranges.bin', { offset: 1_048_570, length: 20 }));
    assert.deepEqual(middle, payload.subarray(1_048_570, 1_048_590));
    const tail = await readAll(await client.read('/ranges.bin', { offset: payload.length - 7, length: 100 }));
    assert.deepEqual(tail, payload.subarray(payload.length - 7));
    const empty = await readAll(await client.read('/ranges.bin', { offset: payload.length }));
    assert.equal(empty.length, 0);
    await assert.rejects(client.read('/ranges.bin', { offset: payload.length + 1 }), (e: unknown) => isDoraError(e, 'OUT_OF_RANGE'));
  });

  it('list() pages past 1,000 entries in path order', async () => {
    const names: string[] = [];
    for await (const entry of client.list('/many')) names.push(entry.name);
    assert.equal(names.length, 1234);
    assert.deepEqual(names, [...names].sort());
    const small: string[] = [];
    for await (const entry of client.list('/many', { pageSize: 100, startAfter: '/many/f1000.txt' })) small.push(entry.name);
    assert.equal(small.length, 233);
    assert.equal(small[0], 'f1001.txt');
  });

  it('list() with recursive yields every file below', async () => {
    await client.write('/tree/a/b/c.txt', Buffer.from('c'));
    await client.write('/tree/a/d.txt', Buffer.from('d'));
    const paths: string[] = [];
    for await (const entry of client.list('/tree', { recursive: true })) paths.push(entry.path);
    assert.deepEqual(paths, ['/tree/a/b/c.txt', '/tree/a/d.txt']);
  });

  it('mkdir(), rename() and delete() change the namespace', async () => {
    await client.mkdir('/ops/dir/sub');
    assert.equal((await client.stat('/ops/dir/sub')).kind, 'directory');
    await client.write('/ops/dir/file.txt', Buffer.from('x'));
    await client.rename('/ops/dir/file.txt', '/ops/moved.txt');
    assert.equal((await client.readFile('/ops/moved.txt')).toString(), 'x');
    await assert.rejects(client.stat('/ops/dir/file.txt'), (e: unknown) => isDoraError(e, 'NOT_FOUND'));
    await assert.rejects(client.delete('/ops/dir'), (e: unknown) => isDoraError(e, 'DIRECTORY_NOT_EMPTY'));
    await client.delete('/ops/dir', { recursive: true });
    await assert.rejects(client.stat('/ops/dir'), (e: unknown) => isDoraError(e, 'NOT_FOUND'));
  });

  it('an unknown path fails with NOT_FOUND, not retryable, naming the path', async () => {
    await assert.rejects(client.stat('/no/such/file'), (e: unknown) => isDoraError(e, 'NOT_FOUND') && !e.retryable && e.message.includes('/no/such/file'));
    await assert.rejects(client.read('/no/such/file'), (e: unknown) => isDoraError(e, 'NOT_FOUND'));
    await assert.rejects(async () => {
      for await (const _ of client.list('/no/such/dir')) assert.fail('nothing to list');
    }, (e: unknown) => isDoraError(e, 'NOT_FOUND'));
    assert.equal(client.stats().fallbacks, 0);
  });

  it('a relative path fails with INVALID_ARGUMENT before any request', async () => {
    await assert.rejects(client.stat('relative/path'), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT'));
  });

  it('invalidate(), free() and cacheSummary() report what they did', async () => {
    await client.write('/cached.bin', payload.subarray(0, 2_000_000));
    await client.readFile('/cached.bin');
    assert.equal(typeof (await client.invalidate('/cached.bin')), 'number');
    const summary = await client.cacheSummary();
    assert.equal(summary.workers.length, 1);
    const worker = summary.workers[0];
    assert.ok(worker !== undefined && !('error' in worker), JSON.stringify(worker));
    assert.ok(worker.pageSize > 0);
    assert.ok(worker.tiers.length > 0);
    const freed = await client.free('/cached.bin');
    assert.equal(freed.files, 1);
    assert.ok(freed.pages >= 2 && freed.bytes >= 2_000_000, JSON.stringify(freed)); // in memory, maybe on disk too
    assert.deepEqual(await client.free('/cached.bin'), { files: 0, pages: 0, bytes: 0 }, 'nothing is left to free');
  });

  it('mount(), mounts() and unmount() manage the mount table', async () => {
    const extra = join(dataDir, 'extra');
    await mkdir(extra);
    await writeFile(join(extra, 'inside.txt'), 'inside');
    const mounted = await client.mount({ path: '/extra', uri: `file://${extra}`, readOnly: true });
    assert.equal(mounted.path, '/extra');
    assert.ok((await client.mounts()).some((m) => m.path === '/extra' && m.readOnly));
    assert.equal((await client.readFile('/extra/inside.txt')).toString(), 'inside');
    assert.equal((await client.stat('/extra/inside.txt')).mount, '/extra');
    await assert.rejects(client.write('/extra/new.txt', Buffer.from('no')), (e: unknown) => isDoraError(e, 'PERMISSION_DENIED'));
    await assert.rejects(client.mount({ path: '/extra', uri: `file://${extra}` }), (e: unknown) => isDoraError(e, 'ALREADY_EXISTS'));
    await client.unmount('/extra');
    assert.ok(!(await client.mounts()).some((m) => m.path === '/extra'));
    await assert.rejects(client.unmount('/extra'), (e: unknown) => isDoraError(e, 'NOT_FOUND'));
  });

  it('reads go straight to the store when the worker refuses connections', async () => {
    await client.write('/fallback.bin', payload);
    const dead = await refusingAddress();
    const direct = new DoraClient({ address: embedded.coordinatorUrl, selector: () => new ConsistentHashSelector([{ id: 'dead', address: dead, state: 'live' }]) });
    try {
      assert.equal((await direct.stat('/fallback.bin')).size, payload.length);
      assert.equal(sha256(await direct.readFile('/fallback.bin')), sha256(payload));
      assert.deepEqual(await readAll(await direct.read('/fallback.bin', { offset: 10, length: 10 })), payload.subarray(10, 20));
      let count = 0;
      for await (const _ of direct.list('/many')) count++;
      assert.equal(count, 1234);
      assert.equal(direct.stats().fallbacks, 4);
      await assert.rejects(direct.mkdir('/nope'), (e: unknown) => isDoraError(e, 'UNAVAILABLE') && e.retryable);
    } finally {
      await direct.close();
    }
  });
});

describe('DoraClient when the embedded worker stops', () => {
  it('keeps reading from the store, counting fallbacks', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dora-client-stop-'));
    const embedded = await startEmbedded({ dataDir });
    const client = new DoraClient({ address: embedded.coordinatorUrl });
    try {
      const data = randomBytes(3 * 1024 * 1024);
      await client.write('/kept.bin', data);
      assert.equal(sha256(await client.readFile('/kept.bin')), sha256(data));
      await embedded.worker.stop();
      assert.equal(sha256(await client.readFile('/kept.bin')), sha256(data));
      assert.equal((await client.stat('/kept.bin')).size, data.length);
      assert.equal(client.stats().fallbacks, 2);
    } finally {
      await client.close();
      await embedded.stop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
