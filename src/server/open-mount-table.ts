import type { DoraConfig } from '../conf/config-keys.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { MountStore } from '../mount/mount-store.js';
import { MountTable } from '../mount/mount-table.js';
import { createDefaultUfsRegistry } from '../ufs/ufs-registry.js';
import { describeCause } from '../common/errors.js';
import { log } from '../observe/log.js';
import { resilientUfs, ufsPolicies } from '../ufs/wrappers/resilient-ufs.js';

/** The mount table of a process, each store opened with the configured retries and timeouts (and metrics, on a worker). */
export function openMountTable(
  config: DoraConfig,
  store: MountStore,
  options: { metrics?: WorkerMetrics | undefined; resolveCredentials?: ((name: string) => Record<string, string>) | undefined },
): Promise<MountTable> {
  const policies = ufsPolicies(config);
  const metrics = options.metrics;
  return MountTable.open(store, {
    registry: createDefaultUfsRegistry(policies.tuning),
    ...(options.resolveCredentials === undefined ? {} : { resolveCredentials: options.resolveCredentials }),
    decorate: (ufs, mount) =>
      resilientUfs(ufs, policies, {
        ...(metrics === undefined ? {} : { observe: (event) => metrics.onUfsCall(mount.path, event), mount: mount.path }),
        // At debug, where requests are followed: the line then carries the request that waited for the retry.
        onRetry: (call, error, attempt) => log.debug({ mount: mount.path, op: call.op, path: call.path, attempt, err: describeCause(error) }, 'store call failed; retrying'),
      }),
  });
}
