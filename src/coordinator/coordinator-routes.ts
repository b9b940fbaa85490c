import { DoraError } from '../common/errors.js';
import { readJson, requiredParam, type JsonServer } from '../http/json-server.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import { addMetricsRoutes } from '../metrics/metrics-routes.js';
import type { MountInfo, MountRequest } from '../mount/mount-info.js';
import type { MountTable } from '../mount/mount-table.js';
import type { Membership } from '../membership/membership.js';
import type { ClusterHistory } from './cluster-history.js';
import type { ClusterSummary } from '../client/cluster-summary-types.js';
import { askWorkerCache } from './cluster-summary.js';

/** Where the coordinator learns which workers are live: the membership (static, or etcd in a cluster). */
export type WorkerDirectory = Pick<Membership, 'members' | 'watch'>;

/** Who leads among several coordinators (absent: this one is the only one). */
export interface LeaderView {
  readonly isLeader: boolean;
  leader(): string | undefined;
}

/** Store options whose values are never shown outside the process: `*secret*`, `*token*`, `*password*`, `*credential*`, `*key` (an Azure `accountKey`). */
const SECRET = /secret|token|password|credential|key$|connectionstring|basicauth|authorization/i;

/**
 * The coordinator's REST API (docs/worker-api.md): the mount table, the workers, and a cache
 * summary gathered from every worker.
 */
export function addCoordinatorRoutes(
  server: JsonServer,
  deps: {
    mounts: MountTable;
    workers: WorkerDirectory;
    metrics: MetricsRegistry;
    leadership?: LeaderView | undefined;
    url: () => string;
    summary: (signal: AbortSignal) => Promise<ClusterSummary>;
    history: ClusterHistory;
  },
): JsonServer {
  return addMetricsRoutes(server, deps.metrics)
    .route('GET', '/api/v1/mounts', async () => ({ mounts: deps.mounts.list().map(redacted) }))
    .route('POST', '/api/v1/mounts', async (req, res) => {
      const mount = await deps.mounts.add(mountRequest(await readJson(req)), { signal: req.signal });
      const text = JSON.stringify(redacted(mount));
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    })
    .route('DELETE', '/api/v1/mounts', async (req) => {
      await deps.mounts.remove(requiredParam(req, 'path'), { signal: req.signal });
    })
    .route('GET', '/api/v1/nodes', async () => ({ workers: deps.workers.members() }))
    .route('POST', '/api/v1/nodes/decommission', async (req) => {
      const id = requiredParam(req, 'id');
      const worker = deps.workers.members().find((w) => w.id === id);
      if (worker === undefined) throw new DoraError('NOT_FOUND', `Cannot decommission worker "${id}": no live worker has that id`);
      const res = await fetch(`${worker.address}/v1/decommission`, { method: 'POST', signal: AbortSignal.any([req.signal, AbortSignal.timeout(10_000)]) }).catch((error: unknown) => {
        throw new DoraError('UNAVAILABLE', `Cannot decommission worker "${id}": it does not answer at ${worker.address} (${String(error)})`);
      });
      if (!res.ok) throw new DoraError('UNAVAILABLE', `Cannot decommission worker "${id}": it answered ${res.status} ${await res.text()}`);
      return { id, state: 'decommissioning' };
    })
    .route('GET', '/api/v1/leader', async () => {
      const self = deps.url();
      return { self, leader: deps.leadership === undefined ? self : (deps.leadership.leader() ?? null), isLeader: deps.leadership?.isLeader ?? true };
    })
    .route('GET', '/api/v1/cache', async (req) => ({
      workers: await Promise.all(deps.workers.members().map(async (w) => ({ id: w.id, ...(await askWorkerCache(w, req.signal)) }))),
    }))
    .route('GET', '/api/v1/cluster', (req) => deps.summary(req.signal))
    .route('GET', '/api/v1/cluster/history', async () => deps.history.view());
}

/** A mount as the REST API shows it: secret store options as `***`. */
export function redacted(mount: MountInfo): MountInfo {
  const options = Object.fromEntries(Object.entries(mount.options).map(([k, v]) => [k, SECRET.test(k) ? '***' : v]));
  return { ...mount, options };
}

/** Validates the shape of a mount request body; the mount table validates its meaning. */
function mountRequest(body: unknown): MountRequest {
  const fail = (why: string): never => {
    throw new DoraError('INVALID_ARGUMENT', `Cannot add the mount: ${why}`);
  };
  if (typeof body !== 'object' || body === null) return fail('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b['path'] !== 'string') fail('"path" must be a string');
  if (typeof b['uri'] !== 'string') fail('"uri" must be a string');
  if (b['readOnly'] !== undefined && typeof b['readOnly'] !== 'boolean') fail('"readOnly" must be true or false');
  if (b['writeType'] !== undefined && typeof b['writeType'] !== 'string') fail('"writeType" must be a string');
  if (b['credentials'] !== undefined && typeof b['credentials'] !== 'string') fail('"credentials" must be a string');
  if (b['syncInterval'] !== undefined && typeof b['syncInterval'] !== 'string' && typeof b['syncInterval'] !== 'number') fail('"syncInterval" must be a duration');
  if (b['replicas'] !== undefined && typeof b['replicas'] !== 'string' && typeof b['replicas'] !== 'number') fail('"replicas" must be a number');
  const options = b['options'] ?? {};
  if (typeof options !== 'object' || options === null || Object.values(options).some((v) => typeof v !== 'string')) {
    fail('"options" must be an object of strings');
  }
  return {
    path: b['path'] as string,
    uri: b['uri'] as string,
    readOnly: b['readOnly'] as boolean | undefined,
    writeType: b['writeType'] as string | undefined,
    options: options as Record<string, string>,
    credentials: b['credentials'] as string | undefined,
    syncInterval: b['syncInterval'] as string | number | undefined,
    replicas: b['replicas'] as string | number | undefined,
  };
}
