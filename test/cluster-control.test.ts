import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { sha256 } from '../src/testing/assertions.js';
import { pathOwnedBy, type LocalCoordinator } from '../src/testing/local-cluster.js';
import { scrape } from '../src/testing/prometheus-text.js';
import { s3Options } from '../src/testing/s3-fixture.js';
import { s3ClusterFixture, until } from './cluster-helpers.js';

const MiB = 1024 * 1024;
/** membership.leaseTtl of a local cluster (also the coordinators' election lease). */
const LEASE_MS = 1000;

interface LeaderAnswer {
  self: string;
  leader: string | null;
  isLeader: boolean;
}

// One cluster of three workers and two coordinators; the last test kills a coordinator.
describe('a cluster whose control plane fails', () => {
  const env = s3ClusterFixture('control', { coordinators: 2 });

  const live = env.live;

  it('goes on reading with the last known workers while etcd is down, and admits a new worker once it is back', async () => {
    const c = env.cluster;
    const sdk = c.client();
    const workers = live();
    const files = await Promise.all(
      workers.map(async (w) => ({ path: await pathOwnedBy(sdk, w.id, `/data/outage/${w.id}`), owner: w, data: randomBytes(MiB + 77) })),
    );
    await Promise.all(files.map((f) => env.bucket.write(f.path.slice('/data/'.length), f.data)));
    const ids = workers.map((w) => w.id).sort();

    await c.etcd.kill();
    const downAt = Date.now();
    const readAll = async (): Promise<void> => {
      const fresh = c.client();
      for (const f of files) {
        assert.equal(sha256(await sdk.readFile(f.path)), sha256(f.data), `${f.path} through a client that knew the cluster`);
        assert.equal(sha256(await fresh.readFile(f.path)), sha256(f.data), `${f.path} through a new client`);
        const gateway = workers.find((w) => w !== f.owner)!;
        const res = await fetch(`${gateway.s3Url}${f.path}`);
        assert.equal(res.status, 200, `${f.path} through the S3 API of ${gateway.id}`);
        assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(f.data));
      }
      assert.deepEqual([fresh.stats().fallbacks, fresh.stats().failovers], [0, 0], 'served by the workers, not the store');
    };
    await readAll();
    // Past every lease: nothing renews them now, yet the last known set stands.
    await sleep(Math.max(0, downAt + 2.5 * LEASE_MS - Date.now()));
    for (const coordinator of c.coordinators) {
      assert.deepEqual((await c.nodes(coordinator.url)).map((w) => w.id).sort(), ids, `${coordinator.url} lists the last known workers`);
    }
    await readAll();
    assert.deepEqual([sdk.stats().fallbacks, sdk.stats().failovers], [0, 0]);

    await c.etcd.restart();
    const allLive = (listed: readonly { id: string; state: string }[]): boolean => ids.every((id) => listed.some((w) => w.id === id && w.state === 'live'));
    for (const coordinator of c.coordinators) await c.waitForNodes(allLive, 10_000, coordinator.url);
    // Coming back, etcd may still drop a registration made before the outage and take it again (a worker leaves
    // and rejoins once): count joins only once the coordinators' membership counts have been quiet for two leases.
    const changes = async () => JSON.stringify(await Promise.all(c.coordinators.map(async (co) => (await scrape(co.url)).samples.filter((x) => x.name === 'dora_membership_changes_total'))));
    for (let last = await changes(), deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      await sleep(2 * LEASE_MS);
      const now = await changes();
      if (now === last) break;
      last = now;
    }
    const joinedBefore = await Promise.all(c.coordinators.map(async (co) => (await scrape(co.url)).value('dora_membership_changes_total', { change: 'joined' })));
    const added = await c.addWorker(); // resolves once both coordinators list it
    for (const [i, coordinator] of c.coordinators.entries()) {
      const metrics = await scrape(coordinator.url);
      assert.equal(metrics.value('dora_membership_changes_total', { change: 'joined' }), joinedBefore[i]! + 1, `${coordinator.url} counted the worker joining`);
      assert.equal(metrics.value('dora_workers', { state: 'live' }), ids.length + 1);
    }
    const placed = await Promise.all(Array.from({ length: 100 }, async (_, i) => (await c.client().owners(`/data/after/file-${i}`))[0]!.id));
    assert.ok(placed.includes(added.id), 'the new worker owns files');
    // Through the SDK and through the S3 API of a worker that was there during the outage: its view follows etcd again.
    const paths = [await pathOwnedBy(c.client(), added.id, '/data/after/sdk'), await pathOwnedBy(c.client(), added.id, '/data/after/s3')];
    const data = [randomBytes(4096), randomBytes(5000)];
    await Promise.all(paths.map((p, i) => env.bucket.write(p.slice('/data/'.length), data[i]!)));
    const gateway = workers[0]!;
    const before = await Promise.all([added.cache(), gateway.cache()]);
    assert.equal(sha256(await c.client().readFile(paths[0]!)), sha256(data[0]!));
    const res = await fetch(`${gateway.s3Url}${paths[1]}`);
    assert.equal(res.status, 200);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(data[1]!));
    const after = await Promise.all([added.cache(), gateway.cache()]);
    assert.equal(after[0].bytesFromStore - before[0].bytesFromStore, 4096 + 5000, 'the new worker served both of its files');
    assert.equal(after[1].bytesFromStore, before[1].bytesFromStore, 'the S3 gateway routed to the new worker');
  });

  it('elects one of two coordinators; the other takes over when it dies; both serve one mount table', async () => {
    const c = env.cluster;
    const [first, second] = c.coordinators;
    assert.ok(first !== undefined && second !== undefined);
    const leader = await waitForLeader([first, second], 5000);
    const follower = leader === first ? second : first;
    const views = await Promise.all([first, second].map(leadership));
    assert.deepEqual(views.map((v) => v.leader), [leader.url, leader.url], 'both name the same leader');

    // A mount added through either coordinator is seen by the other (the table lives in etcd).
    for (const [via, other, path] of [[follower, leader, '/through-follower'], [leader, follower, '/through-leader']] as const) {
      const res = await fetch(`${via.url}/api/v1/mounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path, uri: `s3://control${path}/`, options: s3Options(env.moto) }),
      });
      assert.equal(res.status, 201, await res.text());
      await until(async () => (await mountPaths(other.url)).includes(path), `${other.url} lists ${path}`);
    }

    await leader.kill();
    const killedAt = Date.now();
    assert.equal(await waitForLeader([follower], 2 * LEASE_MS + 2000), follower);
    const took = Date.now() - killedAt;
    assert.ok(took <= 2 * LEASE_MS + 1000, `the follower led ${took} ms after the leader died`);
    assert.equal((await leadership(follower)).leader, follower.url);
    assert.equal((await scrape(follower.url)).value('dora_coordinator_leader'), 1);
  });
});

async function leadership(coordinator: LocalCoordinator): Promise<LeaderAnswer> {
  const res = await fetch(`${coordinator.url}/api/v1/leader`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  return (await res.json()) as LeaderAnswer;
}

/** Polls until exactly one of `coordinators` leads, asserting that two never do. */
async function waitForLeader(coordinators: readonly LocalCoordinator[], timeoutMs: number): Promise<LocalCoordinator> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers = await Promise.all(coordinators.map(leadership));
    const leaders = coordinators.filter((_, i) => answers[i]!.isLeader);
    assert.ok(leaders.length <= 1, `two coordinators lead: ${JSON.stringify(answers)}`);
    if (leaders[0] !== undefined) return leaders[0];
    if (Date.now() > deadline) assert.fail(`No coordinator leads after ${timeoutMs} ms: ${JSON.stringify(answers)}`);
    await sleep(50);
  }
}

async function mountPaths(coordinatorUrl: string): Promise<string[]> {
  const res = await fetch(`${coordinatorUrl}/api/v1/mounts`);
  return ((await res.json()) as { mounts: { path: string }[] }).mounts.map((m) => m.path);
}
