import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEtcdLink, startEtcdServer, type EtcdLink, type EtcdServer } from '../testing/etcd-server.js';
import { waitFor } from '../testing/membership-conformance.js';
import { EtcdClient } from './etcd-client.js';
import { EtcdPrefixMirror } from './etcd-prefix-mirror.js';

describe('EtcdPrefixMirror', () => {
  let etcd: EtcdServer;
  let link: EtcdLink;
  let direct: EtcdClient;
  let linked: EtcdClient;

  before(async () => {
    etcd = await startEtcdServer();
    link = await startEtcdLink(etcd);
    direct = new EtcdClient({ endpoints: etcd.endpoints });
    linked = new EtcdClient({ endpoints: link.endpoints, requestTimeoutMs: 1000, reconnectMaxDelayMs: 200 });
  });
  after(async () => {
    await Promise.all([direct.close(), linked.close()]);
    await link.close();
    await etcd.stop();
  });

  const values = (mirror: EtcdPrefixMirror): Record<string, string> => Object.fromEntries([...mirror.entries()].map(([k, e]) => [k, e.value]));

  it('starts with the keys under the prefix only, and follows puts and deletes', async () => {
    await direct.put('/m1/a', '1');
    await direct.put('/m1-other/x', 'not under the prefix');
    let calls = 0;
    const mirror = await open(direct, '/m1/', () => calls++);
    assert.deepEqual(values(mirror), { '/m1/a': '1' });
    await direct.put('/m1/b', '2');
    await direct.delete('/m1/a');
    await waitFor(() => JSON.stringify(values(mirror)) === JSON.stringify({ '/m1/b': '2' }), 'the mirror follows');
    assert.ok(calls >= 1);
    await mirror.close();
    await direct.put('/m1/c', '3');
    await sleep(100);
    assert.deepEqual(values(mirror), { '/m1/b': '2' }, 'nothing after close()');
  });

  it('a late watch event never undoes a newer write this process applied', async () => {
    const mirror = await open(direct, '/m2/');
    const put = await direct.put('/m2/k', 'v');
    mirror.applyPut('/m2/k', 'v', put);
    mirror.applyDelete('/m2/k', await direct.delete('/m2/k'));
    assert.deepEqual(values(mirror), {});
    await sleep(200); // the watch delivers the put, then the delete
    assert.deepEqual(values(mirror), {});
    await mirror.close();
  });

  it('keeps its entries while cut off, and lists again when its watch cannot resume past a compaction', async () => {
    await direct.put('/m3/stays', 'old');
    await direct.put('/m3/goes', 'old');
    const mirror = await open(linked, '/m3/');
    link.cut();
    await direct.put('/m3/stays', 'new');
    await direct.delete('/m3/goes');
    await direct.put('/m3/added', 'new');
    const revision = await direct.put('/elsewhere', 'x');
    await compact(etcd, revision);
    await sleep(300);
    assert.deepEqual(values(mirror), { '/m3/goes': 'old', '/m3/stays': 'old' }, 'as last seen');
    link.mend();
    await waitFor(() => JSON.stringify(values(mirror)) === JSON.stringify({ '/m3/added': 'new', '/m3/stays': 'new' }), 'the mirror caught up', 8000);
    await direct.put('/m3/later', 'watched again');
    await waitFor(() => mirror.entries().has('/m3/later'), 'the new watch works');
    await mirror.close();
  });
});

async function open(client: EtcdClient, prefix: string, listener: () => void = () => undefined): Promise<EtcdPrefixMirror> {
  const mirror = new EtcdPrefixMirror(client, prefix, listener);
  await mirror.start();
  return mirror;
}

/** Compacts etcd's history up to `revision` through its JSON gateway. */
async function compact(etcd: EtcdServer, revision: bigint): Promise<void> {
  const response = await fetch(`${etcd.endpoints[0]}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: revision.toString(), physical: true }) });
  assert.equal(response.status, 200, await response.text());
}
