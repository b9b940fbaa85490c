import type { MountInfo, MountRequest } from '../mount/mount-info.js';
import type { ClusterCacheSummary } from './client-types.js';
import type { ClusterHistoryView, ClusterSummary } from './cluster-summary-types.js';
import type { HttpTransport, Peer } from './http-transport.js';

interface Signalled {
  signal?: AbortSignal | undefined;
}

/**
 * The coordinator's REST API (docs/worker-api.md) that changes or reports on the cluster, one
 * method per route; the worker list and mount table are read through ClusterView.
 */
export class CoordinatorApi {
  readonly #transport: HttpTransport;
  readonly #peer: Peer;

  constructor(transport: HttpTransport, peer: Peer) {
    this.#transport = transport;
    this.#peer = peer;
  }

  cluster(options: Signalled): Promise<ClusterSummary> {
    return this.#transport.json(this.#peer, { method: 'GET', path: '/api/v1/cluster', signal: options.signal, attempt: 'Cannot read the cluster summary' });
  }

  clusterHistory(options: Signalled): Promise<ClusterHistoryView> {
    return this.#transport.json(this.#peer, { method: 'GET', path: '/api/v1/cluster/history', signal: options.signal, attempt: 'Cannot read the cluster history' });
  }

  cacheSummary(options: Signalled): Promise<ClusterCacheSummary> {
    return this.#transport.json(this.#peer, { method: 'GET', path: '/api/v1/cache', signal: options.signal, attempt: 'Cannot read the cache summary' });
  }

  async decommission(id: string, options: Signalled): Promise<void> {
    await this.#transport.json(this.#peer, {
      method: 'POST',
      path: '/api/v1/nodes/decommission',
      query: { id },
      signal: options.signal,
      attempt: `Cannot decommission worker "${id}"`,
      idempotent: false,
    });
  }

  mount(request: MountRequest, options: Signalled): Promise<MountInfo> {
    return this.#transport.json<MountInfo>(this.#peer, {
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
    return this.#transport.empty(this.#peer, { method: 'DELETE', path: '/api/v1/mounts', query: { path }, signal: options.signal, attempt: `Cannot unmount "${path}"` });
  }
}
