import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DoraConfig } from '../conf/config-keys.js';
import { resolveConfig } from '../conf/resolve-config.js';
import { startCoordinatorNode } from '../coordinator/coordinator-node.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';
import { FileMountStore } from '../mount/file-mount-store.js';
import { MountTable } from '../mount/mount-table.js';
import { loadS3Credentials } from '../s3/load-credentials.js';
import { MultipartStore } from '../s3/multipart/multipart-store.js';
import { localNamespace } from '../s3/namespace/local-namespace.js';
import { S3Server } from '../s3/s3-server.js';
import { createDefaultUfsRegistry } from '../ufs/ufs-registry.js';
import { resilientUfs, ufsPolicies } from '../ufs/wrappers/resilient-ufs.js';
import { startWorkerNode, type WorkerNode } from '../worker/worker-node.js';

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
  const policies = ufsPolicies(config);
  // Store calls are observed from the first mount on; tier figures once the worker's store is open.
  const tiers: { of?: WorkerNode } = {};
  const metrics = new WorkerMetrics(() => tiers.of?.cacheSummary().tiers ?? []);
  const mounts = await MountTable.open(new FileMountStore(config.mountTable.file || join(dataDir, 'mounts.json')), {
    registry: createDefaultUfsRegistry(policies.tuning),
    ...(options.resolveCredentials === undefined ? {} : { resolveCredentials: options.resolveCredentials }),
    decorate: (ufs) => resilientUfs(ufs, policies, { observe: (event) => metrics.onUfsCall(event) }),
  });
  if (!mounts.list().some((m) => m.path === '/')) {
    const root = join(dataDir, 'root');
    await mkdir(root, { recursive: true });
    await mounts.add({ path: '/', uri: `file://${root}` });
  }
  const node = await startWorkerNode(config, { mounts, metrics });
  tiers.of = node;
  const credentials = await loadS3Credentials(config.s3.credentialsFile);
  const multipart = new MultipartStore(join(dataDir, 'multipart'));
  const sweep = (): void => void multipart.sweep(config.s3.multipartMaxAge).catch(() => undefined);
  sweep(); // abandoned uploads: at start, then hourly
  const sweeper = setInterval(sweep, Math.min(config.s3.multipartMaxAge, 3600_000)).unref();
  const s3 = new S3Server(
    { namespace: localNamespace(node.service), region: 'us-east-1', multipart, ...(credentials === undefined ? {} : { credentials }) },
    { allowAnonymousRemote: config.s3.allowAnonymousRemote, ...(credentials === undefined ? {} : { credentials }) },
  );
  const s3Url = await s3.listen(config.s3.port, config.host);
  const coordinator = await startCoordinatorNode(config, {
    mounts,
    workers: { workers: () => [{ id: 'worker-0', address: node.url }] },
  });
  return {
    config,
    coordinatorUrl: coordinator.url,
    workerUrl: node.url,
    s3Url,
    worker: node,
    mounts,
    async stop() {
      clearInterval(sweeper);
      await coordinator.stop();
      await s3.close();
      await node.stop();
      await mounts.close();
    },
  };
}
