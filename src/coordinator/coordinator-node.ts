import type { DoraClient } from '../client/dora-client.js';
import type { DoraConfig } from '../conf/config-keys.js';
import { JsonServer } from '../http/json-server.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { MountTable } from '../mount/mount-table.js';
import type { JobManager } from '../job/job-manager.js';
import { ClusterHistory } from './cluster-history.js';
import { summarizeCluster } from './cluster-summary.js';
import { observeCoordinator } from './coordinator-metrics.js';
import { addCoordinatorRoutes, type LeaderView, type WorkerDirectory } from './coordinator-routes.js';
import { addJobRoutes } from './job-routes.js';
import { addNamespaceRoutes } from './namespace-routes.js';
import { addWebRoutes } from './web-routes.js';

export interface CoordinatorNode {
  readonly url: string;
  stop(): Promise<void>;
}

/** The coordinator: owner of the mount table and its REST API; never on the data path. Whoever passes `jobs` closes them. */
export async function startCoordinatorNode(
  config: DoraConfig,
  deps: { mounts: MountTable; workers: WorkerDirectory; leadership?: LeaderView | undefined; jobs?: (() => JobManager | undefined) | undefined; client?: (() => DoraClient) | undefined },
): Promise<CoordinatorNode> {
  const metrics = new MetricsRegistry({ role: 'coordinator' });
  const unwatch = observeCoordinator(metrics, deps);
  let url = '';
  const summary = (signal?: AbortSignal) =>
    summarizeCluster(
      {
        workers: () => deps.workers.members(),
        mounts: () => deps.mounts.list().length,
        leader: () => (deps.leadership === undefined ? url : (deps.leadership.leader() ?? null)),
        jobs: deps.jobs,
      },
      signal,
    );
  const history = new ClusterHistory({ intervalMs: config.web.historyInterval, sample: () => summary() });
  const server = addCoordinatorRoutes(new JsonServer({ name: 'coordinator', metrics, slowRequestMs: config.log.slowRequest }), {
    ...deps,
    metrics,
    url: () => url,
    summary,
    history,
  });
  if (deps.jobs !== undefined) addJobRoutes(server, { jobs: deps.jobs, leader: () => deps.leadership?.leader(), self: () => url });
  if (deps.client !== undefined) addNamespaceRoutes(server, { client: deps.client, workers: deps.workers });
  await addWebRoutes(server);
  url = await server.listen(config.web.port, config.host);
  history.start();
  return {
    url,
    async stop() {
      unwatch();
      await history.stop();
      await server.close();
    },
  };
}
