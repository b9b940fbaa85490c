import { join, resolve } from 'node:path';
import { DoraClient } from '../client/dora-client.js';
import type { DoraConfig } from '../conf/config-keys.js';
import { LeaderJobs } from '../coordinator/leader-jobs.js';
import { EtcdJobStore } from '../job/etcd-job-store.js';
import { FileJobStore } from '../job/job-store.js';
import { startCoordinatorNode } from '../coordinator/coordinator-node.js';
import type { LeaderView } from '../coordinator/coordinator-routes.js';
import { EtcdLeaderElection } from '../membership/etcd-leader-election.js';
import { openClusterState } from './cluster-state.js';
import { openMountTable } from './open-mount-table.js';

export interface ClusterCoordinator {
  readonly url: string;
  /** Whether this coordinator is the active leader now (always, without etcd). */
  readonly leadership: LeaderView;
  stop(): Promise<void>;
}

/**
 * `dora coordinator`: the cluster's REST API over the shared mount table and the live workers.
 * Several may run against one etcd; one is elected the active leader, which runs the jobs (kept
 * in etcd, resumed by the next leader), and every one serves the API, passing job requests on to
 * the leader. Reads and writes never pass through it.
 */
export async function startClusterCoordinator(config: DoraConfig, options: { resolveCredentials?: (name: string) => Record<string, string> } = {}): Promise<ClusterCoordinator> {
  const cluster = await openClusterState(config);
  const mounts = await openMountTable(config, cluster.mountStore, { resolveCredentials: options.resolveCredentials });
  const unwatch = await cluster.watchMounts(() => void mounts.reload().catch(() => undefined));
  let election: EtcdLeaderElection | undefined;
  const leadership: LeaderView = {
    get isLeader() {
      return election?.isLeader ?? cluster.etcd === undefined;
    },
    leader: () => election?.leader(),
  };
  // Jobs run on the leader through a client of the cluster; they are kept in etcd (or the data directory).
  const self = { url: '' };
  const jobClient: { of?: DoraClient } = {};
  // The membership and mount table this coordinator watches, not a cached view of its own API: a worker that
  // just joined owns its files at once, and files are placed on the ring the workers use.
  const client = (): DoraClient =>
    (jobClient.of ??= new DoraClient({
      address: self.url,
      source: { workers: () => cluster.membership.members(), mounts: () => mounts.list() },
      virtualNodes: config.cluster.virtualNodes,
      connectTimeoutMs: config.client.connectTimeout,
      idleTimeoutMs: config.client.idleTimeout,
    }));
  const jobs = new LeaderJobs({
    store: cluster.etcd === undefined ? new FileJobStore(join(resolve(config.dataDir), 'jobs')) : new EtcdJobStore(cluster.etcd, { prefix: config.etcd.prefix }),
    client,
    isLeader: () => leadership.isLeader,
    config,
  });
  const node = await startCoordinatorNode(config, { mounts, workers: cluster.membership, leadership, jobs: () => jobs.manager, client });
  self.url = node.url;
  if (cluster.etcd !== undefined) {
    election = await EtcdLeaderElection.open(cluster.etcd, { prefix: config.etcd.prefix, address: node.url, leaseTtlSeconds: Math.ceil(config.membership.leaseTtl / 1000) });
    election.watch(() => void jobs.sync());
    await election.campaign();
  }
  await jobs.sync();
  let stopping: Promise<void> | undefined;
  return {
    url: node.url,
    leadership,
    stop() {
      stopping ??= (async () => {
        await jobs.close();
        await election?.close();
        await node.stop();
        await jobClient.of?.close();
        unwatch();
        await mounts.close();
        await cluster.close();
      })();
      return stopping;
    },
  };
}
