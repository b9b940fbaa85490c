import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { EtcdClient } from '../membership/etcd-client.js';
import { startEtcdServer, type EtcdServer } from '../testing/etcd-server.js';
import { runJobStoreConformance } from '../testing/job-store-conformance.js';
import { EtcdJobStore } from './etcd-job-store.js';
import { FileJobStore, type JobStore } from './job-store.js';

describe('job stores', () => {
  let dir: string;
  let etcd: EtcdServer;
  let client: EtcdClient;
  let n = 0;
  const where = new WeakMap<JobStore, string>();
  const remember = <T extends JobStore>(store: T, at: string): T => (where.set(store, at), store);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-job-store-'));
    etcd = await startEtcdServer();
    client = new EtcdClient({ endpoints: etcd.endpoints, requestTimeoutMs: 2000, reconnectMaxDelayMs: 200 });
  });
  after(async () => {
    await client?.close();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  runJobStoreConformance('FileJobStore', {
    create: async () => {
      const at = join(dir, `jobs-${++n}`);
      return remember(new FileJobStore(at), at);
    },
    reopen: async (store) => new FileJobStore(where.get(store) ?? ''),
  });
  runJobStoreConformance('EtcdJobStore', {
    create: async () => {
      const at = `/dora-${++n}`;
      return remember(new EtcdJobStore(client, { prefix: at }), at);
    },
    reopen: async (store) => new EtcdJobStore(client, { prefix: where.get(store) ?? '' }),
  });
});
