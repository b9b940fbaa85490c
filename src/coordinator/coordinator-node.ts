import type { DoraConfig } from '../conf/config-keys.js';
import { JsonServer } from '../http/json-server.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { MountTable } from '../mount/mount-table.js';
import type { JobManager } from '../job/job-manager.js';
import { addCoordinatorRoutes, type LeaderView, type WorkerDirectory } from './coordinator-routes.js';
import { addJobRoutes } from './job-routes.js';

export interface CoordinatorNode {
  readonly url: string;
  stop(): Promise<void>;
}

/** The coordinator: owner of the mount table and its REST API; never on the data path. Whoever passes `jobs` closes them. */
export async function startCoordinatorNode(
  config: DoraConfig,
  deps: { mounts: MountTable; workers: WorkerDirectory; leadership?: LeaderView | undefined; jobs?: (() => JobManager | undefined) | undefined },
): Promise<CoordinatorNode> {
  const metrics = new MetricsRegistry();
  metrics.gauge('dora_mounts', 'Mount points in the namespace.', [], () => [[{}, deps.mounts.list().length]]);
  metrics.gauge('dora_workers', 'Workers known to the coordinator, by state.', ['state'], () => {
    const members = deps.workers.members();
    return (['live', 'decommissioning'] as const).map((state) => [{ state }, members.filter((w) => w.state === state).length]);
  });
  metrics.gauge('dora_coordinator_leader', '1 while this coordinator is the active leader.', [], () => [[{}, deps.leadership?.isLeader === false ? 0 : 1]]);
  let url = '';
  const server = addCoordinatorRoutes(new JsonServer(), { ...deps, metrics, url: () => url });
  if (deps.jobs !== undefined) addJobRoutes(server, { jobs: deps.jobs, leader: () => deps.leadership?.leader(), self: () => url });
  url = await server.listen(config.web.port, config.host);
  return {
    url,
    async stop() {
      await server.close();
    },
  };
}
