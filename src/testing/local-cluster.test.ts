import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startLocalCluster, type LocalCluster } from './local-cluster.js';

describe('startLocalCluster()', () => {
  let cluster: LocalCluster | undefined;
  let store: string | undefined;
  after(async () => {
    await cluster?.stop();
    if (store !== undefined) await rm(store, { recursive: true, force: true });
  });

  it('runs workers that serve a mount, come back with their id after a kill, and are all gone after stop()', async () => {
    store = await mkdtemp(join(tmpdir(), 'dora-cluster-store-'));
    cluster = await startLocalCluster({ workers: 2, mounts: [{ path: '/local', uri: `file://${store}/` }] });
    const [first, second] = cluster.workers;
    assert.ok(first !== undefined && second !== undefined);
    assert.notEqual(first.id, second.id);
    assert.deepEqual((await cluster.nodes()).map((w) => w.id).sort(), [first.id, second.id].sort());

    const client = cluster.client();
    await client.write('/local/a.txt', Buffer.from('hello'));
    assert.equal((await client.readFile('/local/a.txt')).toString(), 'hello');
    const listed = await cluster.cli(['info', 'nodes', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { id: string }[]).map((w) => w.id).sort(), [first.id, second.id].sort());

    const id = first.id;
    await first.kill();
    assert.equal(await first.exited, null, 'ended by a signal');
    await cluster.waitForNodes((workers) => !workers.some((w) => w.id === id), 5000);
    await first.restart();
    assert.equal(first.id, id);
    assert.equal(await second.stop(), 0, 'SIGTERM stops a worker cleanly');

    await cluster.stop();
    assert.ok(cluster.workers.every((w) => !w.running) && cluster.coordinators.every((c) => !c.running));
    assert.equal(existsSync(first.dataDir), false, 'the data directories are removed');
  });
});
