import { DoraError } from '../common/errors.js';
import { readJson, requiredParam, type JsonServer } from '../http/json-server.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { MountInfo, MountRequest } from '../mount/mount-info.js';
import type { MountTable } from '../mount/mount-table.js';

/** A worker as the coordinator knows it. */
export interface WorkerRecord {
  readonly id: string;
  /** The worker's internal API, e.g. http://127.0.0.1:29999. */
  readonly address: string;
  readonly s3Address?: string;
}

/** Where the coordinator learns which workers exist (static for now; etcd in a cluster). */
export interface WorkerDirectory {
  workers(): readonly WorkerRecord[];
}

/** Store options whose values are never shown outside the process. */
const SECRET = /secret|token|password|credential/i;

/**
 * The coordinator's REST API (docs/worker-api.md): the mount table, the workers, and a cache
 * summary gathered from every worker.
 */
export function addCoordinatorRoutes(server: JsonServer, deps: { mounts: MountTable; workers: WorkerDirectory; metrics: MetricsRegistry }): JsonServer {
  return server
    .route('GET', '/healthz', async () => ({ status: 'ok' }))
    .route('GET', '/metrics', async (_req, res) => {
      const { contentType, body } = await deps.metrics.text();
      res.writeHead(200, { 'content-type': contentType }).end(body);
    })
    .route('GET', '/api/v1/mounts', async () => ({ mounts: deps.mounts.list().map(redacted) }))
    .route('POST', '/api/v1/mounts', async (req, res) => {
      const mount = await deps.mounts.add(mountRequest(await readJson(req)), { signal: req.signal });
      const text = JSON.stringify(redacted(mount));
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    })
    .route('DELETE', '/api/v1/mounts', async (req) => {
      await deps.mounts.remove(requiredParam(req, 'path'), { signal: req.signal });
    })
    .route('GET', '/api/v1/nodes', async () => ({ workers: deps.workers.workers().map((w) => ({ ...w, state: 'live' })) }))
    .route('GET', '/api/v1/cache', async (req) => ({
      workers: await Promise.all(deps.workers.workers().map(async (w) => ({ id: w.id, ...(await workerCache(w, req.signal)) }))),
    }));
}

function redacted(mount: MountInfo): MountInfo {
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

async function workerCache(worker: WorkerRecord, signal: AbortSignal): Promise<Record<string, unknown>> {
  try {
    const res = await fetch(`${worker.address}/v1/cache`, { signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
    return (await res.json()) as Record<string, unknown>;
  } catch (error) {
    return { error: { code: 'UNAVAILABLE', message: `Cannot ask worker ${worker.id} at ${worker.address}: ${String(error)}`, retryable: true } };
  }
}
