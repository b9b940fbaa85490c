import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEtcdLink, startEtcdServer, type EtcdServer } from '../testing/etcd-server.js';
import { freePort } from '../testing/free-port.js';
import { rejectsWith } from '../testing/assertions.js';
import { runMembershipConformance, waitFor, workerRecord } from '../testing/membership-conformance.js';
import { EtcdClient } from './etcd-client.js';
import { EtcdMembership } from './etcd-membership.js';
import type { Membership } from './membership.js';
import { loadOrCreateWorkerId } from './worker-identity.js';

const TTL = 1;

describe('EtcdMembership', () => {
  let etcd: EtcdServer;
  const clients: EtcdClient[] = [];
  let clusters = 0;
  const prefixes = new WeakMap<Membership, string>();

  /** A client and membership as one process would have them, on cluster `prefix`. */
  const open = async (prefix: string, ttl = TTL): Promise<{ client: EtcdClient; membership: EtcdMembership }> => {
    const client = new EtcdClient({ endpoints: etcd.endpoints, requestTimeoutMs: 1000, reconnectMaxDelayMs: 200 });
    clients.push(client);
    const membership = await EtcdMembership.open(client, { prefix, leaseTtlSeconds: ttl });
    prefixes.set(membership, prefix);
    return { client, membership };
  };
  const ids = (membership: Membership): string[] => membership.members().map((m) => m.id);

  before(async () => {
    etcd = await startEtcdServer();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await etcd.stop();
  });

  runMembershipConformance('EtcdMembership', {
    create: async () => (await open(`/conformance/${++clusters}`)).membership,
    peer: async (membership) => (await open(prefixes.get(membership) ?? assert.fail('unknown membership'))).membership,
    settleMs: 150,
  });

  it('a worker whose process is killed disappears once its lease ends', async () => {
    const { membership: observer } = await open('/killed');
    const child = spawn(process.execPath, ['--input-type=module', '-e', JOIN_AND_WAIT, JSON.stringify({ endpoints: etcd.endpoints, prefix: '/killed', ttl: TTL })], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    assert.equal(line.toString().trim(), 'joined');
    await waitFor(() => ids(observer).includes('child'), 'the observer lists the child');
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await waitFor(() => ids(observer).length === 0, 'the killed worker is gone', 5000);
    const gone = Date.now() - killedAt;
    assert.ok(gone >= 500, `gone after ${gone} ms: not before its lease could end`);
  });

  it('a worker whose client stops without leaving disappears once its lease ends; one that leaves, at once', async () => {
    const { membership: observer } = await open('/stopped');
    const crashed = await open('/stopped');
    const polite = await open('/stopped', 30);
    await crashed.membership.join(workerRecord('crashed'));
    const leaving = await polite.membership.join(workerRecord('polite'));
    await waitFor(() => ids(observer).length === 2, 'the observer lists both');
    await crashed.client.close();
    const leftAt = Date.now();
    await leaving.leave();
    await waitFor(() => !ids(observer).includes('polite'), 'the worker that left is gone', 500);
    assert.ok(Date.now() - leftAt < 500);
    await waitFor(() => ids(observer).length === 0, 'the stopped worker is gone', 5000);
  });

  it('puts its record back when the key is deleted from under it', async () => {
    const { client, membership } = await open('/deleted');
    await membership.join(workerRecord('w1'));
    const seen: string[][] = [];
    membership.watch((members) => seen.push(members.map((m) => m.id)));
    await client.delete('/deleted/workers/w1');
    await waitFor(() => seen.length === 2, 'w1 is dropped and registered again');
    assert.deepEqual(seen, [[], ['w1']]);
    assert.notEqual(await client.get('/deleted/workers/w1'), undefined);
  });

  it('keeps the last known set while etcd is down, and catches up and re-registers when it returns', async () => {
    const { membership: observer } = await open('/outage');
    const survivor = await open('/outage');
    const casualty = await open('/outage');
    await survivor.membership.join(workerRecord('survivor'));
    await casualty.membership.join(workerRecord('casualty'));
    await waitFor(() => ids(observer).length === 2, 'the observer lists both');
    const seen: string[][] = [];
    observer.watch((members) => seen.push(members.map((m) => m.id)));

    await etcd.kill();
    await rejectsWith(survivor.membership.join(workerRecord('late')), 'UNAVAILABLE');
    await casualty.client.close(); // dies while etcd is away: nobody deletes its key
    await sleep(2200 * TTL); // past twice the TTL: the survivor's client gives its lease up for lost
    assert.deepEqual(ids(observer), ['casualty', 'survivor'], 'the last known set, while etcd is down');
    assert.deepEqual(seen, []);

    await etcd.restart();
    await waitFor(() => ids(observer).join() === 'survivor', 'the casualty is gone and the survivor listed', 8000);
    await sleep(1500 * TTL); // its record now lives on a lease that is kept alive
    assert.deepEqual(ids(observer), ['survivor']);
    assert.deepEqual(ids(survivor.membership), ['survivor']);
    assert.deepEqual(seen.at(-1), ['survivor']);
  });

  it('a worker cut off from etcd past its TTL is dropped, and registers again once it reaches etcd', async () => {
    const link = await startEtcdLink(etcd);
    try {
      const { membership: observer } = await open('/partition');
      const client = new EtcdClient({ endpoints: link.endpoints, requestTimeoutMs: 1000, reconnectMaxDelayMs: 200 });
      clients.push(client);
      const cutOff = await EtcdMembership.open(client, { prefix: '/partition', leaseTtlSeconds: TTL });
      await cutOff.join(workerRecord('w1'));
      await waitFor(() => ids(observer).includes('w1'), 'the observer lists w1');
      link.cut();
      await waitFor(() => ids(observer).length === 0, 'w1 is dropped when its lease ends', 5000);
      assert.deepEqual(ids(cutOff), ['w1'], 'the cut-off worker still sees the last known set');
      await sleep(1500 * TTL); // its client now knows the lease is lost
      link.mend();
      await waitFor(() => ids(observer).includes('w1'), 'w1 is registered again', 8000);
      await sleep(1500 * TTL);
      assert.deepEqual(ids(observer), ['w1'], 'on a lease that is kept alive');
    } finally {
      await link.close();
    }
  });

  it('a restarted worker keeps its id from the data directory and replaces its own record', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dora-identity-'));
    try {
      const { membership: observer } = await open('/restart');
      const first = await open('/restart');
      const id = await loadOrCreateWorkerId(dataDir);
      await first.membership.join(workerRecord(id, { startedAt: 1 }));
      await first.client.close(); // killed
      const second = await open('/restart');
      assert.equal(await loadOrCreateWorkerId(dataDir), id);
      await second.membership.join(workerRecord(id, { startedAt: 2 }));
      await waitFor(() => observer.members()[0]?.startedAt === 2, 'the observer sees the new run');
      await sleep(1500 * TTL); // the first run's lease has ended; the key moved to the second's
      assert.deepEqual(observer.members().map((m) => [m.id, m.startedAt]), [[id, 2]]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('open() fails with a retryable UNAVAILABLE when etcd cannot be reached', async () => {
    const client = new EtcdClient({ endpoints: [`http://127.0.0.1:${await freePort()}`], requestTimeoutMs: 1000 });
    clients.push(client);
    const error = await rejectsWith(EtcdMembership.open(client, { prefix: '/nowhere' }), 'UNAVAILABLE', 'Cannot list "/nowhere/workers/" in etcd');
    assert.equal(error.retryable, true);
    await rejectsWith(EtcdMembership.open(client, { prefix: '/x', leaseTtlSeconds: 0.5 }), 'INVALID_ARGUMENT', 'TTL');
  });
});

/** A worker process: joins as "child" and waits to be killed. */
const JOIN_AND_WAIT = `
const { EtcdClient } = await import(${JSON.stringify(new URL('./etcd-client.js', import.meta.url).href)});
const { EtcdMembership } = await import(${JSON.stringify(new URL('./etcd-membership.js', import.meta.url).href)});
const { endpoints, prefix, ttl } = JSON.parse(process.argv[1]);
const membership = await EtcdMembership.open(new EtcdClient({ endpoints }), { prefix, leaseTtlSeconds: ttl });
await membership.join({ id: 'child', address: 'http://127.0.0.1:1', state: 'live', startedAt: Date.now() });
console.log('joined');
setInterval(() => {}, 60_000);
`;
