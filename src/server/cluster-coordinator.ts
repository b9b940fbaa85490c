import type { DoraConfig } from '../conf/config-keys.js';
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
 * Several may run against one etcd; one is elected the active leader (the one that will run
 * jobs), and every one serves the API. Reads and writes never pass through it.
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
  const node = await startCoordinatorNode(config, { mounts, workers: cluster.membership, leadership });
  if (cluster.etcd !== undefined) {
    election = await EtcdLeaderElection.open(cluster.etcd, { prefix: config.etcd.prefix, address: node.url, leaseTtlSeconds: Math.ceil(config.membership.leaseTtl / 1000) });
    await election.campaign();
  }
  let stopping: Promise<void> | undefined;
  return {
    url: node.url,
    leadership,
    stop() {
      stopping ??= (async () => {
        await election?.close();
        await node.stop();
        unwatch();
        await mounts.close();
        await cluster.close();
      })();
      return stopping;
    },
  };
}
