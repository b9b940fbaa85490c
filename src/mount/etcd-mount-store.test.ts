import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdClient } from '../membership/etcd-client.js';
import { rejectsWith } from '../testing/assertions.js';
import { freePort } from '../testing/free-port.js';
import { startEtcdServer, type EtcdServer } from '../testing/etcd-server.js';
import { waitFor } from '../testing/membership-conformance.js';
import { runMountStoreConformance } from '../testing/mount-store-conformance.js';
import { EtcdMountStore } from './etcd-mount-store.js';
import type { MountInfo } from './mount-info.js';

const mount = (path: string): MountInfo => ({ path, uri: `file:///srv${path}`, readOnly: false, writeType: 'CACHE_THROUGH', options: {} });

describe('EtcdMountStore', () => {
  let etcd: EtcdServer;
  let client: EtcdClient;
  const stores: EtcdMountStore[] = [];
  const prefixes = new WeakMap<object, string>();
  let clusters = 0;
  const open = (prefix: string): EtcdMountStore => {
    const store = new EtcdMountStore(client, { prefix });
    stores.push(store);
    prefixes.set(store, prefix);
    return store;
  };
  const prefixOf = (store: object): string => prefixes.get(store) ?? assert.fail('unknown store');

  before(async () => {
    etcd = await startEtcdServer();
    client = new EtcdClient({ endpoints: etcd.endpoints, requestTimeoutMs: 1000, reconnectMaxDelayMs: 200 });
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await client.close();
    await etcd.stop();
  });

  runMountStoreConformance('EtcdMountStore', {
    create: async () => open(`/mounts-${++clusters}`),
    reopen: async (store) => open(prefixOf(store)),
    corrupt: async (store) => {
      await client.put(`${prefixOf(store)}/mounts/table`, 'not json');
    },
  });

  it('watch() tells every watcher of each saved change, from any store, and not of identical saves', async () => {
    const writer = open('/watched');
    const reader = open('/watched');
    await writer.save([mount('/a')]);
    const seen: string[][] = [];
    const stop = await reader.watch((mounts) => seen.push(mounts.map((m) => m.path)));
    await writer.save([mount('/a')]);
    await writer.save([mount('/a'), mount('/b')]);
    await waitFor(() => seen.length === 1, 'the reader saw the change');
    await reader.save([]);
    await waitFor(() => seen.length === 2, 'the reader saw its own save');
    assert.deepEqual(seen, [['/a', '/b'], []]);
    stop();
    await writer.save([mount('/c')]);
    await sleep(200);
    assert.equal(seen.length, 2, 'no calls after unsubscribing');
  });

  it('a watch survives an etcd outage and catches up; load and save fail UNAVAILABLE meanwhile', async () => {
    const store = open('/outage');
    await store.save([mount('/before')]);
    const seen: string[][] = [];
    await store.watch((mounts) => seen.push(mounts.map((m) => m.path)));
    await etcd.kill();
    const error = await rejectsWith(store.load(), 'UNAVAILABLE', 'Cannot read "/outage/mounts/table" from etcd');
    assert.equal(error.retryable, true);
    await rejectsWith(store.save([]), 'UNAVAILABLE');
    await etcd.restart();
    const other = new EtcdClient({ endpoints: etcd.endpoints });
    try {
      await new EtcdMountStore(other, { prefix: '/outage' }).save([mount('/after')]);
    } finally {
      await other.close();
    }
    await waitFor(() => seen.length === 1, 'the watch caught up', 8000);
    assert.deepEqual(seen, [['/after']]);
  });

  it('watch() fails with UNAVAILABLE when etcd cannot be reached, and after close() with FAILED_PRECONDITION', async () => {
    const unreachable = new EtcdClient({ endpoints: [`http://127.0.0.1:${await freePort()}`] });
    try {
      await rejectsWith(new EtcdMountStore(unreachable, { prefix: '/x' }).watch(() => undefined), 'UNAVAILABLE', 'Cannot list "/x/mounts/table" in etcd');
    } finally {
      await unreachable.close();
    }
    const store = open('/closed');
    await store.close();
    await rejectsWith(store.watch(() => undefined), 'FAILED_PRECONDITION', 'closed');
  });
});
