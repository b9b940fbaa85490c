import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sha256 } from '../src/testing/assertions.js';
import { pathOwnedBy, type LocalCluster, type LocalWorker } from '../src/testing/local-cluster.js';
import { s3Options } from '../src/testing/s3-fixture.js';
import { pausedRead, s3ClusterFixture, until, within } from './cluster-helpers.js';

const MiB = 1024 * 1024;
/** membership.leaseTtl of a local cluster. */
const LEASE_MS = 1000;

// One cluster of three workers for the file; each test puts back the workers it stops.
describe('a cluster losing a worker', () => {
  const env = s3ClusterFixture('failover');

  const worker = (id: string): LocalWorker => env.cluster.workers.find((w) => w.id === id) ?? assert.fail(`no worker ${id}`);
  const live = env.live;
  /** A client whose store fallback can sign requests (the coordinator redacts the secret key). */
  const client = (): ReturnType<LocalCluster['client']> => env.cluster.client({ resolveCredentials: () => s3Options(env.moto) });

  it("completes reads through the SDK and another worker's S3 API when the worker serving them is SIGKILLed", async () => {
    const data = randomBytes(64 * MiB);
    await env.bucket.write('big.bin', data);
    const sdk = client();
    const victim = worker((await sdk.owners('/data/big.bin'))[0]!.id);
    const gateway = live().find((w) => w.id !== victim.id)!;
    const small = await pathOwnedBy(sdk, victim.id, '/data/small');
    const smallData = randomBytes(100_000);
    await env.bucket.write(small.slice('/data/'.length), smallData);
    const gatewayBefore = await gateway.cache();

    const viaSdk = pausedRead(await sdk.read('/data/big.bin'));
    await viaSdk.readAtLeast(8 * MiB);
    const res = await fetch(`${gateway.s3Url}/data/big.bin`);
    assert.equal(res.status, 200);
    const viaS3 = pausedRead(res.body ?? assert.fail('no body'));
    await viaS3.readAtLeast(8 * MiB);
    assert.ok((await victim.cache()).bytesFetched >= 8 * MiB, 'the owner serves the reads');
    const gatewayNow = await gateway.cache();
    assert.deepEqual([gatewayNow.bytesFromStore, gatewayNow.bytesFromCache], [gatewayBefore.bytesFromStore, gatewayBefore.bytesFromCache], 'the S3 gateway relays, it does not serve');

    await victim.kill();
    const [sdkDigest, s3Digest] = await Promise.all([viaSdk.finish(), viaS3.finish()]);
    assert.equal(sdkDigest, sha256(data));
    assert.equal(s3Digest, sha256(data));
    const stats = sdk.stats();
    assert.ok(stats.failovers + stats.fallbacks >= 1, `the SDK read went on elsewhere: ${JSON.stringify(stats)}`);

    // New reads of its files too, while it may still be listed (until its lease ends).
    assert.equal(sha256(await client().readFile(small)), sha256(smallData));
    const again = await fetch(`${gateway.s3Url}${small}`);
    assert.equal(again.status, 200);
    assert.equal(sha256(Buffer.from(await again.arrayBuffer())), sha256(smallData));
    await victim.restart();
  });

  it('drops a SIGKILLed worker within its lease; restarted, it keeps its id, its files and its cached pages', async () => {
    const c = env.cluster;
    const sdk = client();
    const target = live()[0]!;
    const id = target.id;
    const path = await pathOwnedBy(sdk, id, '/data/warm/file');
    const data = randomBytes(3 * MiB + 5);
    await env.bucket.write(path.slice('/data/'.length), data);
    assert.equal(sha256(await sdk.readFile(path)), sha256(data));
    await until(async () => (await target.cache()).tiers.some((t) => t.name.startsWith('disk') && t.pages >= 4), 'the 4 pages are on disk');
    const sample = Array.from({ length: 100 }, (_, i) => `/data/sample/file-${i}`);
    const placed = await Promise.all(sample.map(async (p) => (await sdk.owners(p))[0]!.id));

    await target.kill();
    const killedAt = Date.now();
    await c.waitForNodes((workers) => !workers.some((w) => w.id === id), LEASE_MS + 2500);
    const gone = Date.now() - killedAt;
    assert.ok(gone <= LEASE_MS + 2000, `gone from the node list ${gone} ms after the kill`);

    await target.restart();
    assert.equal(target.id, id, 'the same id, from its data directory');
    const fresh = client();
    assert.deepEqual(await Promise.all(sample.map(async (p) => (await fresh.owners(p))[0]!.id)), placed, 'the same files as before');
    const located = await c.cli(['fs', 'location', path, '--json']);
    assert.equal(located.code, 0, located.stderr);
    assert.equal((JSON.parse(located.stdout) as { id: string }[])[0]?.id, id);

    const before = await target.cache();
    assert.equal(sha256(await fresh.readFile(path)), sha256(data));
    const after = await target.cache();
    assert.equal(after.bytesFromStore, before.bytesFromStore, 'nothing read from the store');
    assert.equal(after.misses, before.misses);
    assert.equal(after.hits - before.hits, 4, 'its 4 pages came from its cache');
    assert.equal(after.bytesFromCache - before.bytesFromCache, data.length);
  });

  it('drops a SIGTERMed worker at once, and it exits with status 0', async () => {
    const c = env.cluster;
    const target = live()[1]!;
    const id = target.id;
    assert.equal(await target.stop(), 0);
    // Well within the lease: it left the membership before it exited.
    await c.waitForNodes((workers) => !workers.some((w) => w.id === id), LEASE_MS / 2);
    await target.restart();
  });

  it('decommissions a worker: off the ring, it finishes the read it serves, then exits with status 0', async () => {
    const c = env.cluster;
    const sdk = client();
    const target = live()[2]!;
    const id = target.id;
    const path = await pathOwnedBy(sdk, id, '/data/drain/file');
    const data = randomBytes(24 * MiB);
    await env.bucket.write(path.slice('/data/'.length), data);
    const owned = await Promise.all([0, 1, 2, 3, 4].map((k) => pathOwnedBy(sdk, id, `/data/drain/more-${k}`)));

    const reading = pausedRead(await sdk.read(path));
    await reading.readAtLeast(4 * MiB);
    const decommission = await c.cli(['worker', 'decommission', id]);
    assert.equal(decommission.code, 0, decommission.stderr);
    assert.match(decommission.stdout, /decommissioning/);
    await c.waitForNodes((workers) => workers.find((w) => w.id === id)?.state === 'decommissioning', 2000);

    const located = await c.cli(['fs', 'location', path, '--json']);
    assert.equal(located.code, 0, located.stderr);
    assert.ok(!(JSON.parse(located.stdout) as { id: string }[]).some((w) => w.id === id), `fs location no longer names ${id}: ${located.stdout}`);
    const fresh = client();
    for (const p of [path, ...owned]) assert.notEqual((await fresh.owners(p))[0]?.id, id, p);
    assert.ok(target.running, 'it waits for the read it serves');

    assert.equal(await reading.finish(), sha256(data));
    assert.deepEqual([sdk.stats().failovers, sdk.stats().fallbacks], [0, 0], 'the read finished on the decommissioned worker');
    assert.equal(await within(target.exited, 15_000, 'the drained worker exits'), 0);
    await c.waitForNodes((workers) => !workers.some((w) => w.id === id));
    await target.restart();
  });
});
