import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, ListPartsCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import type { DoraClient } from '../src/client/dora-client.js';
import { sha256 } from '../src/testing/assertions.js';
import { pathOwnedBy, type LocalWorker, type LocalWorkerCache } from '../src/testing/local-cluster.js';
import { s3Options } from '../src/testing/s3-fixture.js';
import { caches, s3ClusterFixture, until } from './cluster-helpers.js';

const MiB = 1024 * 1024;

// One cluster of three workers for the file; the last test changes its membership.
describe('a cluster of three workers places each file on one owner', () => {
  const env = s3ClusterFixture('placement', { s3Mounts: (moto) => [{ path: '/rep', uri: 's3://placement/rep/', options: s3Options(moto), replicas: 2 }] });

  const live = env.live;
  const ownerIds = (client: DoraClient, paths: readonly string[]): Promise<string[][]> => Promise.all(paths.map(async (p) => (await client.owners(p)).map((w) => w.id)));

  it('places 200 files on the same workers from every client and from `dora fs location`, some on each worker', async () => {
    const c = env.cluster;
    const paths = Array.from({ length: 200 }, (_, i) => `/data/placed/file-${i}.bin`);
    const first = await ownerIds(c.client(), paths);
    assert.deepEqual(await ownerIds(c.client(), paths), first);
    assert.ok(first.every((owners) => owners.length === 1));
    const perWorker = new Map<string, number>();
    for (const [owner] of first) perWorker.set(owner!, (perWorker.get(owner!) ?? 0) + 1);
    assert.deepEqual([...perWorker.keys()].sort(), live().map((w) => w.id).sort());
    for (const [id, n] of perWorker) assert.ok(n >= 30, `worker ${id} owns ${n} of 200 files`);

    const sampled = [0, 57, 123, 199];
    const located = await Promise.all(sampled.map((i) => c.cli(['fs', 'location', paths[i]!, '--json'])));
    for (const [k, result] of located.entries()) {
      assert.equal(result.code, 0, result.stderr);
      const rows = JSON.parse(result.stdout) as { id: string; role: string }[];
      assert.deepEqual(rows.map((r) => [r.id, r.role]), [[first[sampled[k]!]![0], 'owner']]);
    }
  });

  it('caches a file read through the SDK on its owner and on no other worker', async () => {
    const c = env.cluster;
    const client = c.client();
    // Four files of each worker, from 1 KiB to 2.5 MiB (1 MiB pages).
    const files: { path: string; owner: string; data: Buffer }[] = [];
    for (const worker of live()) {
      for (let k = 0; k < 4; k++) {
        const path = await pathOwnedBy(client, worker.id, `/data/cached/${worker.id}-${k}`);
        files.push({ path, owner: worker.id, data: randomBytes(1024 + k * 800_000) });
      }
    }
    await Promise.all(files.map((f) => env.bucket.write(f.path.slice('/data/'.length), f.data)));

    const cold = await caches(live());
    for (const f of files) assert.equal(sha256(await client.readFile(f.path)), sha256(f.data), f.path);
    const warm = await caches(live());
    for (const worker of live()) {
      const owned = files.filter((f) => f.owner === worker.id).reduce((sum, f) => sum + f.data.length, 0);
      const [was, now] = [cold.get(worker.id)!, warm.get(worker.id)!];
      assert.equal(now.bytesFetched - was.bytesFetched, owned, `worker ${worker.id} fetched exactly its own files`);
      assert.ok(now.pages > was.pages, `worker ${worker.id} cached pages`);
    }

    for (const f of files) assert.equal(sha256(await client.readFile(f.path)), sha256(f.data), f.path);
    const again = await caches(live());
    for (const worker of live()) {
      const owned = files.filter((f) => f.owner === worker.id).reduce((sum, f) => sum + f.data.length, 0);
      const [was, now] = [warm.get(worker.id)!, again.get(worker.id)!];
      assert.equal(now.bytesFromStore, was.bytesFromStore, `worker ${worker.id} read nothing more from the store`);
      assert.equal(now.bytesFromCache - was.bytesFromCache, owned, `worker ${worker.id} served its own files from its cache`);
      assert.equal(now.misses, was.misses);
    }
  });

  it('places a file of a mount with two replicas on two workers, and clients read from both', async () => {
    const c = env.cluster;
    const client = c.client();
    const placements = await ownerIds(client, Array.from({ length: 50 }, (_, i) => `/rep/spread/file-${i}`));
    for (const owners of placements) assert.equal(new Set(owners).size, 2, `two distinct workers: ${owners.join(', ')}`);

    const data = randomBytes(MiB + 4321);
    await env.bucket.write('rep/shared.bin', data);
    const replicas = (await client.owners('/rep/shared.bin')).map((w) => w.id);
    const other = live().find((w) => !replicas.includes(w.id))!;
    const otherBefore = await other.cache();
    // Each client starts at a random one of the replicas: read with new clients until both served it.
    const served = new Set<string>();
    for (let n = 0; n < 32 && served.size < 2; n++) {
      const before = await caches(live());
      const reader = c.client();
      assert.equal(sha256(await reader.readFile('/rep/shared.bin')), sha256(data));
      await reader.close();
      const after = await caches(live());
      const moved = live().filter((w) => lookups(after.get(w.id)!) > lookups(before.get(w.id)!)).map((w) => w.id);
      assert.equal(moved.length, 1, `one worker served read ${n}: ${moved.join(', ')}`);
      assert.ok(replicas.includes(moved[0]!), `read ${n} was served by a replica, not ${moved[0]}`);
      served.add(moved[0]!);
    }
    assert.deepEqual([...served].sort(), [...replicas].sort(), 'both replicas served reads');
    const otherAfter = await other.cache();
    assert.equal(lookups(otherAfter), lookups(otherBefore), 'the third worker served none');
  });

  it("routes an S3 PUT and GET on any worker to the key's owner, whose cache holds the bytes", async () => {
    const c = env.cluster;
    const client = c.client();
    const [gateway, owner] = live();
    assert.ok(gateway !== undefined && owner !== undefined);
    const path = await pathOwnedBy(client, owner.id, '/data/routed/object');
    const url = `${gateway.s3Url}${path}`; // bucket "data", key "routed/object-<n>"
    const data = randomBytes(2 * MiB + 500 * 1024);
    const [gatewayBefore, ownerBefore] = [await gateway.cache(), await owner.cache()];

    const put = await fetch(url, { method: 'PUT', body: data });
    assert.equal(put.status, 200, await put.text());
    assert.equal((await env.bucket.stat(path.slice('/data/'.length))).size, data.length, 'written through to the store');
    await until(async () => (await owner.cache()).pages >= ownerBefore.pages + 3, 'the owner caches the 3 pages it wrote');

    const get = await fetch(url);
    assert.equal(get.status, 200);
    assert.equal(sha256(Buffer.from(await get.arrayBuffer())), sha256(data));
    const [gatewayAfter, ownerAfter] = [await gateway.cache(), await owner.cache()];
    assert.equal(ownerAfter.bytesFromCache - ownerBefore.bytesFromCache, data.length, 'the owner served the GET from its cache');
    assert.equal(ownerAfter.bytesFromStore, ownerBefore.bytesFromStore);
    for (const field of ['pages', 'hits', 'misses', 'bytesFromCache', 'bytesFromStore'] as const) {
      assert.equal(gatewayAfter[field], gatewayBefore[field], `the gateway's ${field} did not move`);
    }
  });

  it('keeps a multipart upload whole when its calls reach different workers: each goes to the key\'s owner', async () => {
    const c = env.cluster;
    const client = c.client();
    const [first, second, owner] = live();
    assert.ok(first !== undefined && second !== undefined && owner !== undefined);
    const path = await pathOwnedBy(client, owner.id, '/data/multipart/object');
    const s3 = (worker: LocalWorker): S3Client =>
      new S3Client({ endpoint: worker.s3Url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'any', secretAccessKey: 'any' }, requestChecksumCalculation: 'WHEN_REQUIRED', maxAttempts: 1 });
    const [viaFirst, viaSecond] = [s3(first), s3(second)];
    try {
      const key = path.slice('/data/'.length);
      const [head, tail] = [randomBytes(5 * MiB), randomBytes(1234)];
      const { UploadId } = await viaFirst.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: key }));
      const one = await viaFirst.send(new UploadPartCommand({ Bucket: 'data', Key: key, UploadId, PartNumber: 1, Body: head }));
      const two = await viaSecond.send(new UploadPartCommand({ Bucket: 'data', Key: key, UploadId, PartNumber: 2, Body: tail }));
      const listed = await viaSecond.send(new ListPartsCommand({ Bucket: 'data', Key: key, UploadId }));
      assert.deepEqual(listed.Parts?.map((p) => p.PartNumber), [1, 2]);
      await viaSecond.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: two.ETag }] } }));
      const got = await viaFirst.send(new GetObjectCommand({ Bucket: 'data', Key: key }));
      assert.equal(sha256(Buffer.from((await got.Body?.transformToByteArray()) ?? [])), sha256(Buffer.concat([head, tail])));
    } finally {
      viaFirst.destroy();
      viaSecond.destroy();
    }
  });

  it('moves only the files of a worker that joins or leaves, about 1/N of 300', async () => {
    const c = env.cluster;
    const paths = Array.from({ length: 300 }, (_, i) => `/data/ring/file-${i}`);
    const owners = async (): Promise<string[]> => (await ownerIds(c.client(), paths)).map((o) => o[0]!);
    const three = await owners();

    const added = await c.addWorker();
    const four = await owners();
    const toAdded = paths.filter((_, i) => four[i] !== three[i]);
    assert.ok(paths.every((_, i) => four[i] === three[i] || four[i] === added.id), 'every file that moved moved to the new worker');
    assert.ok(toAdded.length >= 45 && toAdded.length <= 105, `about 1/4 of 300 files moved to the new worker: ${toAdded.length}`);

    assert.equal(await added.stop(), 0);
    await c.waitForNodes((workers) => !workers.some((w) => w.id === added.id));
    assert.deepEqual(await owners(), three, 'without it, every file is back on its first owner');

    const leaving = live()[0]!;
    assert.equal(await leaving.stop(), 0);
    await c.waitForNodes((workers) => !workers.some((w) => w.id === leaving.id));
    const two = await owners();
    const moved = paths.filter((_, i) => two[i] !== three[i]);
    assert.ok(paths.every((_, i) => two[i] === three[i] || three[i] === leaving.id), 'only the files of the worker that left moved');
    assert.equal(moved.length, three.filter((id) => id === leaving.id).length, 'every file of the worker that left moved');
    assert.ok(moved.length >= 60 && moved.length <= 140, `about 1/3 of 300 files moved: ${moved.length}`);
  });
});


/** Page lookups a worker has answered, hits and misses. */
function lookups(cache: LocalWorkerCache): number {
  return cache.hits + cache.misses;
}
