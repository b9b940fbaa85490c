import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DoraConfig } from '../conf/config-keys.js';
import { resolveConfig } from '../conf/resolve-config.js';
import { DoraClient } from '../client/dora-client.js';
import { startCoordinatorNode } from '../coordinator/coordinator-node.js';
import { JobManager } from '../job/job-manager.js';
import { FileJobStore } from '../job/job-store.js';
import { inProcessWorkerApi } from '../worker/in-process-worker-api.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';
import { StaticMembership } from '../membership/static-membership.js';
import { FileMountStore } from '../mount/file-mount-store.js';
import { localNamespace } from '../s3/namespace/local-namespace.js';
import { startWorkerNode, type WorkerNode } from '../worker/worker-node.js';
import type { MountTable } from '../mount/mount-table.js';
import { openMountTable } from './open-mount-table.js';
import { startS3Gateway } from './s3-gateway.js';

export interface EmbeddedOptions {
  /** A resolved configuration; else one is resolved from `flags` alone (tests). */
  config?: DoraConfig;
  dataDir?: string;
  flags?: Record<string, string>;
  /** Resolves a mount's credentials name to store options (see conf/credentials-from-env.ts). */
  resolveCredentials?: (name: string) => Record<string, string>;
}

export interface Embedded {
  readonly config: DoraConfig;
  readonly coordinatorUrl: string;
  readonly workerUrl: string;
  /** The S3-compatible API. */
  readonly s3Url: string;
  readonly worker: WorkerNode;
  readonly mounts: MountTable;
  stop(): Promise<void>;
}

/**
 * `dora start`: a coordinator and one worker (with its S3 API) in one process, sharing one mount table, with the
 * root '/' mounted on `<dataDir>/root` when nothing is mounted there yet.
 */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<Embedded> {
  const config =
    options.config ??
    (await resolveConfig({ env: {}, flags: { 'web.port': '0', 'worker.port': '0', 's3.port': '0', ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }), ...options.flags } }));
  const dataDir = resolve(config.dataDir);
  // Store calls are observed from the first mount on; tier figures once the worker's store is open.
  const tiers: { of?: WorkerNode } = {};
  const metrics = new WorkerMetrics(() => tiers.of?.cacheSummary().tiers ?? []);
  const mounts = await openMountTable(config, new FileMountStore(config.mountTable.file || join(dataDir, 'mounts.json')), {
    metrics,
    resolveCredentials: options.resolveCredentials,
  });
  if (!mounts.list().some((m) => m.path === '/')) {
    const root = join(dataDir, 'root');
    await mkdir(root, { recursive: true });
    await mounts.add({ path: '/', uri: `file://${root}` });
  }
  const node = await startWorkerNode(config, { mounts, metrics });
  tiers.of = node;
  const s3 = await startS3Gateway(config, dataDir, localNamespace(node.service), (event) => metrics.onS3Request(event));
  const s3Url = s3.url;
  // Jobs run from the coordinator through a client of this one worker, kept in the data directory.
  const coordinatorUrl = { of: '' };
  const jobClient: { of?: DoraClient } = {};
  const client = (): DoraClient => (jobClient.of ??= new DoraClient({ address: coordinatorUrl.of, inProcess: inProcessWorkerApi(node) }));
  const jobs = new JobManager({ config, store: new FileJobStore(join(dataDir, 'jobs')), client });
  const coordinator = await startCoordinatorNode(config, {
    mounts,
    jobs: () => jobs,
    client,
    workers: new StaticMembership([{ id: 'worker-0', address: node.url, s3Address: s3Url, state: 'live', startedAt: Date.now(), capacityBytes: node.cacheSummary().capacityBytes }]),
  });
  coordinatorUrl.of = coordinator.url;
  await jobs.start();
  return {
    config,
    coordinatorUrl: coordinator.url,
    workerUrl: node.url,
    s3Url,
    worker: node,
    mounts,
    async stop() {
      await jobs.close();
      await coordinator.stop();
      await jobClient.of?.close();
      await s3.close();
      await node.stop();
      await mounts.close();
    },
  };
}
