import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DoraClient } from '../client/dora-client.js';
import type { DoraConfig } from '../conf/config-keys.js';
import type { WorkerRegistration } from '../membership/membership.js';
import { loadOrCreateWorkerId } from '../membership/worker-identity.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';
import { RoutedNamespace } from '../s3/namespace/routed-namespace.js';
import { startWorkerNode, type WorkerNode } from '../worker/worker-node.js';
import { openClusterState } from './cluster-state.js';
import { openMountTable } from './open-mount-table.js';
import { startS3Gateway } from './s3-gateway.js';

export interface ClusterWorker {
  /** Kept in the data directory: a restarted worker takes the same place on the ring. */
  readonly id: string;
  readonly workerUrl: string;
  readonly s3Url: string;
  readonly node: WorkerNode;
  /** Resolves once a decommissioned worker has drained (its running requests finished). */
  readonly drained: Promise<void>;
  /** Leaves the membership and stops serving. Idempotent. */
  stop(): Promise<void>;
}

/** After being taken off the ring, how long a worker still expects requests from clients with an older view. */
const DRAIN_GRACE_MS = 1000;

/**
 * `dora worker`: a worker of a cluster. It registers itself (with etcd, a lease kept alive), follows
 * the shared mount table, serves its worker API and an S3 API that routes each request to the
 * file's owner on the hash ring. Decommissioning marks it so clients take it off the ring, lets
 * running requests finish, then resolves `drained`.
 */
export async function startClusterWorker(config: DoraConfig, options: { resolveCredentials?: (name: string) => Record<string, string> } = {}): Promise<ClusterWorker> {
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const id = await loadOrCreateWorkerId(dataDir);
  const cluster = await openClusterState(config);
  const tiers: { of?: WorkerNode } = {};
  const metrics = new WorkerMetrics(() => tiers.of?.cacheSummary().tiers ?? []);
  const mounts = await openMountTable(config, cluster.mountStore, { metrics, resolveCredentials: options.resolveCredentials });
  const unwatch = await cluster.watchMounts(() => void mounts.reload().catch(() => undefined));
  const registered: { as?: WorkerRegistration } = {}; // set once the worker has joined
  let finishDrain: () => void = () => undefined;
  const drained = new Promise<void>((done) => (finishDrain = done));
  const node = await startWorkerNode(config, {
    mounts,
    metrics,
    decommission: async () => {
      await registered.as?.update({ state: 'decommissioning' });
      void drain();
      return { id, state: 'decommissioning' };
    },
  });
  tiers.of = node;
  const client = new DoraClient({
    source: { workers: () => cluster.membership.members(), mounts: () => mounts.list() },
    virtualNodes: config.cluster.virtualNodes,
    observe: metrics.s3.observe,
    connectTimeoutMs: config.client.connectTimeout,
    idleTimeoutMs: config.client.idleTimeout,
    resolveCredentials: (mount) => (mount.credentials === undefined || options.resolveCredentials === undefined ? {} : options.resolveCredentials(mount.credentials)),
  });
  const s3 = await startS3Gateway(config, dataDir, new RoutedNamespace(node.service, client, id), (event) => metrics.onS3Request(event));
  registered.as = await cluster.membership.join({
    id,
    address: node.url,
    s3Address: s3.url,
    state: 'live',
    startedAt: Date.now(),
    capacityBytes: node.cacheSummary().capacityBytes,
  });

  async function drain(): Promise<void> {
    await new Promise((r) => setTimeout(r, DRAIN_GRACE_MS));
    // The decommission call itself may still be closing on the worker API.
    await Promise.all([node.inFlight.idle(config.worker.drainTimeout), s3.inFlight.idle(config.worker.drainTimeout)]);
    finishDrain();
  }

  let stopping: Promise<void> | undefined;
  return {
    id,
    workerUrl: node.url,
    s3Url: s3.url,
    node,
    drained,
    stop() {
      stopping ??= (async () => {
        await registered.as?.leave().catch(() => undefined); // else the lease ends it
        await s3.close();
        await node.stop();
        unwatch();
        await client.close();
        await mounts.close();
        await cluster.close();
      })();
      return stopping;
    },
  };
}
