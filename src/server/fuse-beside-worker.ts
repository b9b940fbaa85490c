import { DoraClient } from '../client/dora-client.js';
import type { DoraConfig } from '../conf/config-keys.js';
import { ClientMetrics } from '../metrics/client-metrics.js';
import { DoraFuse } from '../fuse/dora-fuse.js';
import { inProcessWorkerApi } from '../worker/in-process-worker-api.js';
import type { WorkerNode } from '../worker/worker-node.js';

/** A FUSE mount in a worker's process, and its client. */
export interface FuseBesideWorker {
  readonly fuse: DoraFuse;
  /** Unmounts, then closes the client. */
  stop(): Promise<void>;
}

/**
 * Mounts the namespace at `mountPoint` in the process of `worker` (`dora start --fuse`, `dora worker
 * --fuse`): files this worker owns are read from its cache directly, others from their owners as
 * any client would.
 */
export async function mountBesideWorker(worker: WorkerNode, coordinatorUrl: string, mountPoint: string, config: DoraConfig): Promise<FuseBesideWorker> {
  const metrics = new ClientMetrics(worker.metrics.registry, 'fuse');
  const client = new DoraClient({
    address: coordinatorUrl,
    observe: metrics.observe,
    inProcess: inProcessWorkerApi(worker),
    connectTimeoutMs: config.client.connectTimeout,
    idleTimeoutMs: config.client.idleTimeout,
  });
  try {
    const fuse = await DoraFuse.mount({ client, mountPoint, settings: config.fuse, observeIo: metrics.observeIo });
    return {
      fuse,
      async stop() {
        await fuse.unmount();
        await client.close();
      },
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}
