import type { JobManager } from '../job/job-manager.js';
import { isActive } from '../job/job-types.js';
import type { Membership } from '../membership/membership.js';
import { METRICS } from '../metrics/catalogue.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { MountTable } from '../mount/mount-table.js';
import { log } from '../observe/log.js';
import type { LeaderView } from './coordinator-routes.js';

/**
 * The coordinator's series (see the catalogue): mounts, workers by state, workers joining and
 * leaving (also logged), leadership, and jobs with the progress of each running one. Returns the
 * function that stops watching the membership.
 */
export function observeCoordinator(
  registry: MetricsRegistry,
  deps: { mounts: MountTable; workers: Pick<Membership, 'members' | 'watch'>; leadership?: LeaderView | undefined; jobs?: (() => JobManager | undefined) | undefined },
): () => void {
  registry.gauge(METRICS.mounts, () => [[{}, deps.mounts.list().length]]);
  registry.gauge(METRICS.workers, () => {
    const members = deps.workers.members();
    return (['live', 'decommissioning'] as const).map((state) => [{ state }, members.filter((w) => w.state === state).length] as const);
  });
  registry.gauge(METRICS.leader, () => [[{}, deps.leadership?.isLeader === false ? 0 : 1]]);
  const jobs = () => deps.jobs?.()?.list() ?? [];
  registry.gauge(METRICS.jobs, () => {
    const counts = new Map<string, number>();
    for (const job of jobs()) counts.set(`${job.spec.kind}\u0000${job.state}`, (counts.get(`${job.spec.kind}\u0000${job.state}`) ?? 0) + 1);
    return [...counts].map(([key, n]) => {
      const [kind = '', state = ''] = key.split('\u0000');
      return [{ kind, state }, n] as const;
    });
  });
  const running = () => jobs().filter((job) => isActive(job.state));
  registry.gauge(METRICS.jobFiles, () =>
    running().flatMap((job) => {
      const labels = { id: job.id, kind: job.spec.kind };
      const p = job.progress;
      return [
        [{ ...labels, count: 'total' }, p.filesListed],
        [{ ...labels, count: 'done' }, p.filesDone],
        [{ ...labels, count: 'failed' }, p.filesFailed],
        [{ ...labels, count: 'skipped' }, p.filesSkipped],
      ] as const;
    }),
  );
  registry.gauge(METRICS.jobBytes, () => running().map((job) => [{ id: job.id, kind: job.spec.kind }, job.progress.bytesDone] as const));

  const changes = registry.counter(METRICS.membershipChanges);
  let known = new Map(deps.workers.members().map((w) => [w.id, w]));
  return deps.workers.watch((members) => {
    const now = new Map(members.map((w) => [w.id, w]));
    for (const [id, w] of now) {
      if (known.has(id)) continue;
      changes.inc({ change: 'joined' });
      log.info({ worker: id, address: w.address }, 'worker joined');
    }
    for (const [id, w] of known) {
      if (now.has(id)) continue;
      changes.inc({ change: 'left' });
      log.info({ worker: id, address: w.address }, 'worker left');
    }
    known = now;
  });
}
