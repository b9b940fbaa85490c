import { pipeline } from 'node:stream/promises';
import { integerParam, readJson, requiredParam, sendError, type JsonServer } from '../http/json-server.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import { addMetricsRoutes } from '../metrics/metrics-routes.js';
import { DoraError } from '../common/errors.js';
import { parseWriteType } from '../mount/mount-info.js';
import { parseTags, parseWriteAttributes, WRITE_ATTRIBUTES_HEADER } from '../http/write-attributes.js';
import { noteSpan } from '../observe/tracing.js';
import type { WorkerService } from './worker-service.js';

/**
 * The worker's internal HTTP API (docs/worker-api.md) over a WorkerService: thin translation
 * of query parameters and bodies, nothing else.
 */
export function addWorkerRoutes(
  server: JsonServer,
  worker: WorkerService,
  extra: { metrics: MetricsRegistry; cacheSummary: () => unknown; decommission?: (() => Promise<unknown>) | undefined },
): JsonServer {
  return addMetricsRoutes(server, extra.metrics)
    .route('POST', '/v1/decommission', async () => {
      if (extra.decommission === undefined) throw new DoraError('FAILED_PRECONDITION', 'Cannot decommission this worker: it is not part of a cluster (dora start)');
      return extra.decommission();
    })
    .route('GET', '/v1/cache', async () => extra.cacheSummary())
    .route('GET', '/v1/stat', (req) => worker.stat(requiredParam(req, 'path'), { signal: req.signal, attributes: req.query.get('attributes') === 'true' }))
    .route('GET', '/v1/tags', async (req) => ({ tags: await worker.tags(requiredParam(req, 'path'), { signal: req.signal }) }))
    .route('PUT', '/v1/tags', async (req) => {
      await worker.setTags(requiredParam(req, 'path'), parseTags(await readJson(req), req.query.get('path') ?? ''), { signal: req.signal });
    })
    .route('GET', '/v1/list', (req) => {
      const startAfter = req.query.get('startAfter');
      const limit = integerParam(req, 'limit');
      return worker.list(requiredParam(req, 'path'), {
        signal: req.signal,
        recursive: req.query.get('recursive') === 'true',
        ...(startAfter === null ? {} : { startAfter }),
        ...(limit === undefined ? {} : { limit }),
      });
    })
    .route('GET', '/v1/read', async (req, res) => {
      // No abort signal: a read's store calls are bounded by the UFS timeouts, and making one
      // per request costs small random reads a measurable share of their time.
      const read = await worker.read(requiredParam(req, 'path'), {
        offset: integerParam(req, 'offset'),
        length: integerParam(req, 'length'),
      });
      noteSpan({ 'dora.path': read.status.path, 'dora.mount': read.status.mount, 'dora.bytes': read.length });
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': read.length,
        'x-dora-version': encodeURIComponent(read.status.version),
        'x-dora-size': read.status.size,
      });
      if ('bytes' in read) {
        res.end(read.bytes);
        return;
      }
      try {
        await pipeline(read.stream, res);
      } catch (error) {
        sendError(res, error); // cuts the connection: the client sees fewer bytes than announced
      }
    })
    .route('PUT', '/v1/write', async (req) => {
      const header = req.raw.headers['content-length'];
      const size = header === undefined ? undefined : Number(header);
      const writeType = req.query.get('writeType');
      const written = await worker.write(requiredParam(req, 'path'), req.raw, {
        signal: req.signal,
        size,
        ...parseWriteAttributes(req.raw.headers[WRITE_ATTRIBUTES_HEADER], req.query.get('path') ?? ''),
        ...(writeType === null ? {} : { writeType: parseWriteType(writeType, `Cannot write "${req.query.get('path')}"`) }),
      });
      noteSpan({ 'dora.path': written.path, 'dora.mount': written.mount, 'dora.bytes': written.size });
      return written;
    })
    .route('DELETE', '/v1/delete', (req) => worker.delete(requiredParam(req, 'path'), { signal: req.signal, recursive: req.query.get('recursive') === 'true' }))
    .route('POST', '/v1/rename', (req) => worker.rename(requiredParam(req, 'from'), requiredParam(req, 'to'), { signal: req.signal }))
    .route('POST', '/v1/mkdir', (req) => worker.mkdir(requiredParam(req, 'path'), { signal: req.signal }))
    .route('POST', '/v1/invalidate', async (req) => ({ invalidated: await worker.invalidate(requiredParam(req, 'path')) }))
    .route('POST', '/v1/free', (req) => worker.free(requiredParam(req, 'path')))
    .route('GET', '/v1/held', (req) => worker.held(requiredParam(req, 'path')))
    .route('GET', '/v1/held-children', (req) => worker.heldChildren(requiredParam(req, 'path')))
    .route('POST', '/v1/load', (req) => worker.load(requiredParam(req, 'path'), { signal: req.signal, metadataOnly: req.query.get('metadataOnly') === 'true' }))
    .route('POST', '/v1/load-batch', async (req) => {
      const body = (await readJson(req)) as { paths?: unknown } | null;
      const paths = body?.paths;
      if (!Array.isArray(paths) || !paths.every((p): p is string => typeof p === 'string')) {
        throw new DoraError('INVALID_ARGUMENT', 'Cannot load a batch: the body must be {"paths": ["/a", …]}');
      }
      return { files: await worker.loadMany(paths, { signal: req.signal, metadataOnly: req.query.get('metadataOnly') === 'true' }) };
    });
}

