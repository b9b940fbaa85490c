import type { ClusterHistoryView, ClusterSummary } from './cluster-summary-types.js';
import { CoordinatorCalls, type Signalled } from './coordinator-calls.js';

/** The coordinator's view of the whole cluster (docs/observability.md): `client.cluster`. */
export class ClusterApi extends CoordinatorCalls {
  /** Every worker's state and cache figures now, and the totals (`dora info cluster`). */
  summary(options: Signalled = {}): Promise<ClusterSummary> {
    return this.json({ method: 'GET', path: '/api/v1/cluster', signal: options.signal, attempt: 'Cannot read the cluster summary' });
  }

  /** Hit ratio and throughput over the last hour, as the coordinator sampled them. */
  history(options: Signalled = {}): Promise<ClusterHistoryView> {
    return this.json({ method: 'GET', path: '/api/v1/cluster/history', signal: options.signal, attempt: 'Cannot read the cluster history' });
  }
}
