import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rejectsWith } from '../testing/assertions.js';
import { startEtcdLink, startEtcdServer, type EtcdServer } from '../testing/etcd-server.js';
import { waitFor } from '../testing/membership-conformance.js';
import { EtcdClient } from './etcd-client.js';
import { EtcdLeaderElection } from './etcd-leader-election.js';

const TTL = 1;

interface Contender {
  readonly address: string;
  readonly client: EtcdClient;
  readonly election: EtcdLeaderElection;
}

describe('EtcdLeaderElection', () => {
  let etcd: EtcdServer;
  const clients: EtcdClient[] = [];
  const elections: EtcdLeaderElection[] = [];
  /** Moments two contenders led at once: there must be none. */
  const overlaps: string[][] = [];

  before(async () => {
    etcd = await startEtcdServer();
  });
  afterEach(() => assert.deepEqual(overlaps, []));
  after(async () => {
    await Promise.all(elections.map((e) => e.close()));
    await Promise.all(clients.map((c) => c.close()));
    await etcd.stop();
  });

  /** `count` coordinator processes on cluster `prefix`, each campaigning; two leading at once are recorded in `overlaps`. */
  async function contenders(prefix: string, count: number): Promise<Contender[]> {
    const all: Contender[] = [];
    for (let i = 0; i < count; i++) {
      const client = new EtcdClient({ endpoints: etcd.endpoints, requestTimeoutMs: 1000, reconnectMaxDelayMs: 200 });
      clients.push(client);
      const address = `http://127.0.0.1:${19_990 + i}`;
      const election = await EtcdLeaderElection.open(client, { prefix, address, leaseTtlSeconds: TTL });
      elections.push(election);
      election.watch(({ isLeader }) => {
        const leading = all.filter((c) => c.election.isLeader).map((c) => c.address);
        if (isLeader && leading.length > 1) overlaps.push(leading);
      });
      all.push({ address, client, election });
    }
    for (const { election } of all) await election.campaign();
    return all;
  }
  const leaders = (all: readonly Contender[]): Contender[] => all.filter((c) => c.election.isLeader);
  const oneLeader = (all: readonly Contender[]): boolean => leaders(all).length === 1 && all.every((c) => c.election.leader() === leaders(all)[0]?.address);

  it('elects exactly one of three candidates, the first to campaign, and every one knows its address', async () => {
    const all = await contenders('/three', 3);
    await waitFor(() => oneLeader(all), 'one leader, known to all');
    assert.equal(leaders(all)[0], all[0]);
    await all[0]?.election.campaign(); // idempotent
    await sleep(300);
    assert.ok(oneLeader(all) && all[0]?.election.isLeader);
  });

  it('hands over to the next candidate when the leader resigns', async () => {
    const all = await contenders('/resign', 3);
    await waitFor(() => oneLeader(all), 'one leader');
    const first = leaders(all)[0] ?? assert.fail('no leader');
    const changes: boolean[] = [];
    first.election.watch(({ isLeader }) => changes.push(isLeader));
    await first.election.resign();
    await first.election.resign();
    assert.equal(first.election.isLeader, false);
    await waitFor(() => oneLeader(all) && !first.election.isLeader, 'another leader');
    assert.deepEqual([...new Set(changes)], [false], 'it stepped down and stayed down');
    assert.equal(first.election.leader(), leaders(all)[0]?.address);
  });

  it('hands over when the leader dies without resigning, once its lease ends', async () => {
    const all = await contenders('/died', 2);
    await waitFor(() => oneLeader(all), 'one leader');
    const [dead, next] = all as [Contender, Contender];
    const diedAt = Date.now();
    await dead.client.close(); // keepalives stop; the lease is not revoked
    await waitFor(() => next.election.isLeader, 'the other takes over', 5000);
    assert.ok(Date.now() - diedAt >= 500, 'not before the lease of the dead leader could end');
    assert.equal(dead.election.isLeader, false, 'the dead leader stepped down when it could no longer renew');
    assert.equal(next.election.leader(), next.address);
  });

  it('lets an observer read the leader without campaigning', async () => {
    const all = await contenders('/observed', 1);
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    clients.push(client);
    const observer = await EtcdLeaderElection.open(client, { prefix: '/observed' });
    elections.push(observer);
    await waitFor(() => observer.leader() === all[0]?.address, 'the observer knows the leader');
    assert.equal(observer.isLeader, false);
    await rejectsWith(observer.campaign(), 'FAILED_PRECONDITION', 'observe only');
    await all[0]?.election.close();
    await all[0]?.election.close();
    await waitFor(() => observer.leader() === undefined, 'no leader after the only candidate closed');
    await rejectsWith((all[0] ?? assert.fail()).election.campaign(), 'FAILED_PRECONDITION', 'closed');
  });

  it('a leader cut off from etcd steps down, another takes over, and it follows when it reaches etcd again', async () => {
    const link = await startEtcdLink(etcd);
    try {
      const client = new EtcdClient({ endpoints: link.endpoints, requestTimeoutMs: 1000, reconnectMaxDelayMs: 200 });
      clients.push(client);
      const cutOff = await EtcdLeaderElection.open(client, { prefix: '/partition', address: 'http://cut-off', leaseTtlSeconds: TTL });
      elections.push(cutOff);
      await cutOff.campaign();
      await waitFor(() => cutOff.isLeader, 'the first candidate leads');
      const [other] = await contenders('/partition', 1);
      const all = [{ address: 'http://cut-off', client, election: cutOff }, other ?? assert.fail()];
      link.cut();
      await waitFor(() => other?.election.isLeader === true, 'the other takes over', 5000);
      assert.equal(cutOff.isLeader, false);
      link.mend();
      await waitFor(() => oneLeader(all) && cutOff.leader() === other?.address, 'the cut-off one follows the new leader', 8000);
      await cutOff.resign();
    } finally {
      await link.close();
    }
  });

  it('a leader cut off from etcd steps down within its TTL, and one leads again when etcd returns', async () => {
    const all = await contenders('/outage', 2);
    await waitFor(() => oneLeader(all), 'one leader');
    const leader = leaders(all)[0]?.address;
    await etcd.kill();
    const killedAt = Date.now();
    await waitFor(() => leaders(all).length === 0, 'nobody leads while etcd is away', 2000);
    assert.ok(Date.now() - killedAt < 1000 * TTL, 'stepped down before its lease could end');
    assert.ok(all.every((c) => c.election.leader() === leader), 'the last known leader is still reported');
    await sleep(2200 * TTL);
    await etcd.restart();
    await waitFor(() => oneLeader(all), 'one leader again', 8000);
  });
});
