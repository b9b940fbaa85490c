import { DoraError } from '../common/errors.js';
import { readJson, requiredParam, sendJson, type HttpRequest, type JsonServer } from '../http/json-server.js';
import type { JobManager } from '../job/job-manager.js';
import type { ServerResponse } from 'node:http';

/** How long a coordinator waits for the leader it forwards a job request to. */
const FORWARD_TIMEOUT_MS = 30_000;

/**
 * The jobs REST API (docs/worker-api.md): submit, list, status, stop. Jobs run on the leading
 * coordinator (`jobs()` answers its manager); any other forwards the request to the leader, so a
 * client may ask whichever coordinator it knows.
 */
export function addJobRoutes(server: JsonServer, deps: { jobs: () => JobManager | undefined; leader: () => string | undefined; self: () => string }): JsonServer {
  const on = (handle: (jobs: JobManager, req: HttpRequest, res: ServerResponse) => Promise<unknown>) => async (req: HttpRequest, res: ServerResponse) => {
    const jobs = deps.jobs();
    if (jobs !== undefined) return handle(jobs, req, res);
    return forward(req, res, deps.leader(), deps.self());
  };
  return server
    .route(
      'POST',
      '/api/v1/jobs',
      on(async (jobs, req, res) => sendJson(res, 201, jobs.submit(await readJson(req)))),
    )
    .route(
      'GET',
      '/api/v1/jobs',
      on(async (jobs) => ({ jobs: jobs.list() })),
    )
    .route(
      'GET',
      '/api/v1/jobs/status',
      on(async (jobs, req) => jobs.get(requiredParam(req, 'id'))),
    )
    .route(
      'POST',
      '/api/v1/jobs/stop',
      on(async (jobs, req) => jobs.stop(requiredParam(req, 'id'))),
    );
}

/** Passes a job request on to the leader and its answer back. Throws UNAVAILABLE while no other coordinator leads. */
async function forward(req: HttpRequest, res: ServerResponse, leader: string | undefined, self: string): Promise<void> {
  const attempt = `Cannot ${req.method} ${req.path}`;
  if (leader === undefined || leader === self) {
    throw new DoraError('UNAVAILABLE', `${attempt}: no coordinator leads now (jobs run on the leader); try again shortly`, { retryable: true });
  }
  const body = req.method === 'POST' ? JSON.stringify(await readJson(req).catch(() => null)) : undefined; // the leader answers a bad body
  const answer = await fetch(`${leader}${req.path}?${req.query.toString()}`, {
    method: req.method,
    ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.any([req.signal, AbortSignal.timeout(FORWARD_TIMEOUT_MS)]),
  }).catch((error: unknown) => {
    throw new DoraError('UNAVAILABLE', `${attempt}: the leading coordinator at ${leader} does not answer (${String(error)})`, { retryable: true });
  });
  const text = await answer.text();
  res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
