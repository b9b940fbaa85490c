import type { MountInfo, MountRequest } from '../mount/mount-info.js';
import type { ClusterCacheSummary } from './client-types.js';
import { CoordinatorCalls, type Signalled } from './coordinator-calls.js';

/**
 * The coordinator's REST API (docs/worker-api.md) that changes or reports on the cluster, one
 * method per route; the worker list and mount table are read through ClusterView.
 */
export class CoordinatorApi extends CoordinatorCalls {
  cacheSummary(options: Signalled): Promise<ClusterCacheSummary> {
    return this.json({ method: 'GET', path: '/api/v1/cache', signal: options.signal, attempt: 'Cannot read the cache summary' });
  }

  async decommission(id: string, options: Signalled): Promise<void> {
    await this.json({
      method: 'POST',
      path: '/api/v1/nodes/decommission',
      query: { id },
      signal: options.signal,
      attempt: `Cannot decommission worker "${id}"`,
      idempotent: false,
    });
  }

  mount(request: MountRequest, options: Signalled): Promise<MountInfo> {
    return this.json<MountInfo>({
      method: 'POST',
      path: '/api/v1/mounts',
      body: JSON.stringify(request),
      headers: { 'content-type': 'application/json' },
      signal: options.signal,
      attempt: `Cannot mount "${request.uri}" at "${request.path}"`,
      idempotent: false,
    });
  }

  unmount(path: string, options: Signalled): Promise<void> {
    return this.empty({ method: 'DELETE', path: '/api/v1/mounts', query: { path }, signal: options.signal, attempt: `Cannot unmount "${path}"` });
  }
}
