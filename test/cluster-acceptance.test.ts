import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { DoraClient } from '../src/client/dora-client.js';
import { sha256 } from '../src/testing/assertions.js';
import { pathOwnedBy, type LocalWorker, type LocalWorkerCache } from '../src/testing/local-cluster.js';
import { s3Options } from '../src/testing/s3-fixture.js';
import { caches, pausedRead, s3ClusterFixture, until } from './cluster-helpers.js';

const MiB = 1024 * 1024;
/**
 * membership.leaseTtl here: 2 s, not a local cluster's 1 s. The first test needs the ring to stand still while
 * 20 reads of 4–8 MiB run beside the rest of the suite on two cores; a worker that misses its keepalives for a
 * second there leaves and rejoins, and its files are fetched by their next owner meanwhile.
 */
const LEASE_MS = 2000;
/** How long etcd stays down: the issue asks for 30 s. */
const OUTAGE_MS = 30_000;

/** A file written to the store: its dora path, size and sha256. */
interface Source {
  readonly path: string;
  readonly size: number;
  readonly sha: string;
}

// Issue 5's acceptance criteria, in order, on one cluster: three workers, etcd, moto mounted at /data.
// The tests share state: the first reads (and caches) the files the second and third rely on.
describe('issue 5 acceptance: three workers, a SIGKILL mid-read, an etcd outage and a join', () => {
  const env = s3ClusterFixture('accept', { set: { 'membership.leaseTtl': `${LEASE_MS / 1000}s` } });
  /** 20 files of 4–8 MiB of random bytes. */
  let files: Source[] = [];
  /** The worker SIGKILLed by the second test and the files it owned. */
  let victim: { worker: LocalWorker; id: string; files: Source[] } | undefined;

  before(async () => {
    files = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const data = randomBytes(randomInt(4 * MiB, 8 * MiB + 1));
        await env.bucket.write(`files/file-${i}.bin`, data);
        return { path: `/data/files/file-${i}.bin`, size: data.length, sha: sha256(data) };
      }),
    );
  });
  const live = env.live;
  /** A client whose store fallback can sign requests (the coordinator redacts the secret key). */
  const client = (): DoraClient => env.cluster.client({ resolveCredentials: () => s3Options(env.moto) });
  const ownerOf = async (sdk: DoraClient, path: string): Promise<string> => (await sdk.owners(path))[0]?.id ?? assert.fail(`no owner for ${path}`);
  const bytesOf = (sources: readonly Source[]): number => sources.reduce((sum, f) => sum + f.size, 0);

  it('spreads the 20 files over the three workers; each worker caches exactly the files it owns', async () => {
    const sdk = client();
    const owners = await Promise.all(files.map((f) => ownerOf(sdk, f.path)));
    // Worker ids are random: a worker owning none of the 20 is about a 1-in-1,000 draw.
    assert.deepEqual([...new Set(owners)].sort(), live().map((w) => w.id).sort(), `every worker owns some of the 20 files: ${owners.join(' ')}`);

    const before = await caches(live());
    await Promise.all(files.map(async (f) => assert.equal(await sdkDigest(sdk, f.path), f.sha, f.path)));
    const after = await caches(live());
    const routing = JSON.stringify(sdk.stats());
    for (const worker of live()) {
      const owned = files.filter((_, i) => owners[i] === worker.id);
      const [was, now] = [before.get(worker.id)!, after.get(worker.id)!];
      assert.equal(now.bytesFetched - was.bytesFetched, bytesOf(owned), `worker ${worker.id} fetched its ${owned.length} files and no others (the client: ${routing})`);
      assert.ok(now.pages - was.pages >= pagesOf(owned), `worker ${worker.id} cached the pages of its files`);
      // Its pages reach its disk tier: a restart (third test) finds them there.
      await until(async () => diskPages(await worker.cache()) >= pagesOf(owned), `worker ${worker.id} has its ${pagesOf(owned)} pages on disk`, 10_000);
    }
  });

  it('completes 100 concurrent reads, every byte right, when the owner of several files is SIGKILLed during them', async (t) => {
    const sdk = client();
    const owners = await Promise.all(files.map((f) => ownerOf(sdk, f.path)));
    const victimId = mostFrequent(owners);
    const worker = live().find((w) => w.id === victimId)!;
    victim = { worker, id: victimId, files: files.filter((_, i) => owners[i] === victimId) };
    assert.ok(victim.files.length >= 7, `the victim owns several files: ${victim.files.length}`); // the busiest of 3 owns at least 7 of 20
    const gateways = live().filter((w) => w !== worker);
    const readers = [client(), client(), client(), client()];

    // 80 reads through four clients and 20 through the S3 APIs of the two survivors: every file 5 times.
    const reads = await Promise.all([
      ...Array.from({ length: 80 }, async (_, k) => {
        const f = files[k % 20]!;
        return { f, via: `client ${k % 4}`, read: pausedRead(await readers[k % 4]!.read(f.path)) };
      }),
      ...files.map(async (f, k) => {
        const gateway = gateways[k % 2]!;
        const res = await fetch(`${gateway.s3Url}${f.path}`);
        assert.equal(res.status, 200, `GET ${f.path} through ${gateway.id}`);
        return { f, via: `S3 API of ${gateway.id}`, read: pausedRead(res.body ?? assert.fail('no body')) };
      }),
    ]);
    // Every read has begun and none is complete: all 100 are in flight when the owner dies.
    await Promise.all(reads.map((r) => r.read.readAtLeast(1)));
    assert.ok(reads.every((r) => r.read.received() < r.f.size));
    const routedBefore = await Promise.all(gateways.map((g) => routingEvents(g, 'failover')));

    await worker.kill();
    const digests = await Promise.all(reads.map((r) => r.read.finish()));
    for (const [i, r] of reads.entries()) {
      assert.equal(r.read.received(), r.f.size, `${r.f.path} through ${r.via}: every byte`);
      assert.equal(digests[i], r.f.sha, `${r.f.path} through ${r.via}: the right bytes`);
    }
    // Usually the clients' paused reads leave the victim bytes it has not sent, and resume on a
    // survivor; but loopback sockets hold several MiB each, so under load the victim has at times
    // sent whole 4–8 MiB files before the kill (the count was 0 once in CI). Likewise a gateway's relay
    // holds about 10 MiB in the sockets of its two hops. What must hold here is every byte right;
    // cluster-failover.test.ts proves the resumption itself with 64 MiB reads.
    const resumed = readers.reduce((sum, c) => sum + c.stats().failovers + c.stats().fallbacks, 0);
    const routed = (await Promise.all(gateways.map((g) => routingEvents(g, 'failover')))).map((n, i) => n - routedBefore[i]!);
    t.diagnostic(`failovers: clients ${resumed}, S3 gateways ${routed.join(' + ')}`);
  });

  it("moves the killed worker's files to the others once its lease ends, and back, warm, when it restarts", async () => {
    const c = env.cluster;
    const { worker, id, files: owned } = victim ?? assert.fail('the second test did not run');
    await c.waitForNodes((workers) => !workers.some((w) => w.id === id), LEASE_MS + 4000);
    const others = files.filter((f) => !owned.includes(f));
    const sdk = client(); // a client that learns the cluster now
    const placedOthers = await Promise.all(others.map((f) => ownerOf(sdk, f.path)));
    for (const f of owned) {
      const owner = await ownerOf(sdk, f.path);
      assert.ok(live().some((w) => w.id === owner && w.id !== id), `${f.path} moved to a live worker, not ${owner}`);
      assert.equal(await sdkDigest(sdk, f.path), f.sha, f.path);
    }
    assert.deepEqual([sdk.stats().fallbacks, sdk.stats().failovers], [0, 0], 'the survivors served the reads, first time');

    await worker.restart();
    assert.equal(worker.id, id, 'the same id, from its data directory');
    const back = client();
    for (const f of owned) assert.equal(await ownerOf(back, f.path), id, `${f.path} is back on ${id}`);
    assert.deepEqual(await Promise.all(others.map((f) => ownerOf(back, f.path))), placedOthers, 'no other file moved');
    const before = await worker.cache();
    for (const f of owned) assert.equal(await sdkDigest(back, f.path), f.sha, f.path);
    const after = await worker.cache();
    assert.equal(after.bytesFromStore, before.bytesFromStore, 'nothing read from the store');
    assert.equal(after.hits - before.hits, pagesOf(owned), `its ${pagesOf(owned)} pages came from its disk cache`);
    assert.equal(after.bytesFromCache - before.bytesFromCache, bytesOf(owned));
    assert.deepEqual([back.stats().fallbacks, back.stats().failovers], [0, 0]);
  });

  it('serves every read of the 20 files through clients and S3 while etcd is down for 30 s', async () => {
    const c = env.cluster;
    const workers = live();
    const ids = workers.map((w) => w.id).sort();
    const sdk = client();
    await sdk.owners(files[0]!.path); // it knows the cluster before the outage
    const clients = [sdk];

    await c.etcd.kill();
    const downAt = Date.now();
    let rounds = 0;
    while (Date.now() - downAt < OUTAGE_MS) {
      const fresh = client(); // a client that first meets the cluster during the outage
      clients.push(fresh);
      await Promise.all([
        ...files.map(async (f, i) => assert.equal(await sdkDigest(i % 2 === 0 ? sdk : fresh, f.path), f.sha, `${f.path} in round ${rounds}`)),
        ...files.map(async (f, i) => {
          const gateway = workers[(i + rounds) % workers.length]!;
          const res = await fetch(`${gateway.s3Url}${f.path}`);
          assert.equal(res.status, 200, `GET ${f.path} through ${gateway.id} in round ${rounds}`);
          assert.equal(await bodyDigest(res), f.sha, `${f.path} through ${gateway.id} in round ${rounds}`);
        }),
      ]);
      rounds++;
    }
    assert.ok(rounds >= 3, `reads went on through the outage: ${rounds} rounds of 40 reads`);
    for (const [i, client] of clients.entries()) assert.deepEqual([client.stats().fallbacks, client.stats().failovers], [0, 0], `client ${i}: the workers served`);
    assert.deepEqual((await c.nodes()).map((w) => w.id).sort(), ids, 'the coordinator lists the last known workers');

    await c.etcd.restart();
    await c.waitForNodes((listed) => ids.every((id) => listed.some((w) => w.id === id && w.state === 'live')), 10_000);
  });

  it('gives a new worker about a quarter of 200 paths within seconds, and caches the files it owns on it', async () => {
    const c = env.cluster;
    const sdk = client();
    const paths = Array.from({ length: 200 }, (_, i) => `/data/join/file-${i}`);
    const old = live();
    await sdk.owners(paths[0]!); // it knows the three workers before the join

    const added = await c.addWorker();
    const listedAt = Date.now();
    let share = 0;
    await until(async () => (share = (await Promise.all(paths.map((p) => ownerOf(sdk, p)))).filter((id) => id === added.id).length) > 0, 'the client places paths on the new worker', 5000);
    const took = Date.now() - listedAt;
    assert.ok(took <= 5000, `placed on it ${took} ms after it was listed`);
    // The lookups that first found it may straddle the client's switch to the new ring: count again on it.
    share = (await Promise.all(paths.map((p) => ownerOf(sdk, p)))).filter((id) => id === added.id).length;
    assert.ok(share >= 20 && share <= 80, `the new worker owns about 1/4 of 200 paths: ${share}`);

    const extra = await Promise.all(
      [0, 1].map(async (k) => {
        const path = await pathOwnedBy(sdk, added.id, `/data/join/new-${k}`);
        const data = randomBytes(MiB + 1000 * k);
        await env.bucket.write(path.slice('/data/'.length), data);
        return { path, size: data.length, sha: sha256(data) };
      }),
    );
    const owners = await Promise.all(files.map((f) => ownerOf(sdk, f.path)));
    const mine = [...files.filter((_, i) => owners[i] === added.id), ...extra];
    const before = await added.cache();
    for (const f of mine) assert.equal(await sdkDigest(sdk, f.path), f.sha, f.path);
    const cached = await added.cache();
    assert.equal(cached.bytesFetched - before.bytesFetched, bytesOf(mine), `the new worker fetched its ${mine.length} files`);
    // Again through the S3 API of a worker that was there before: routed to the new owner, served from its cache.
    for (const f of mine) {
      const res = await fetch(`${old[0]!.s3Url}${f.path}`);
      assert.equal(res.status, 200);
      assert.equal(await bodyDigest(res), f.sha, f.path);
    }
    const again = await added.cache();
    assert.equal(again.bytesFromStore, cached.bytesFromStore, 'nothing more from the store');
    assert.equal(again.bytesFromCache - cached.bytesFromCache, bytesOf(mine), 'its cache served them');
  });
});

async function sdkDigest(sdk: DoraClient, path: string): Promise<string> {
  return pausedRead(await sdk.read(path)).finish();
}

async function bodyDigest(res: Response): Promise<string> {
  return pausedRead(res.body ?? assert.fail('no body')).finish();
}



/** Pages of 1 MiB (cache.pageSize) the files take. */
function pagesOf(files: readonly Source[]): number {
  return files.reduce((sum, f) => sum + Math.ceil(f.size / MiB), 0);
}

function diskPages(cache: LocalWorkerCache): number {
  return cache.tiers.filter((t) => t.name.startsWith('disk')).reduce((sum, t) => sum + t.pages, 0);
}

/** A worker's dora_routing_events_total for one event (S3 requests it routed). */
async function routingEvents(worker: LocalWorker, event: string): Promise<number> {
  const text = await (await fetch(`${worker.workerUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`dora_routing_events_total{event="${event}"}`));
  return Number(line?.split(' ').pop() ?? 0);
}

function mostFrequent(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}
