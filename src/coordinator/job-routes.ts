import { readJson, requiredParam, type JsonServer } from '../http/json-server.js';
import type { JobManager } from '../job/job-manager.js';
import type { JobSpec } from '../job/job-types.js';

/** The jobs REST API (docs/worker-api.md): submit, list, status, stop. */
export function addJobRoutes(server: JsonServer, jobs: JobManager): JsonServer {
  return server
    .route('POST', '/api/v1/jobs', async (req, res) => {
      const text = JSON.stringify(jobs.submit((await readJson(req)) as JobSpec)); // the manager checks the spec
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    })
    .route('GET', '/api/v1/jobs', async () => ({ jobs: jobs.list() }))
    .route('GET', '/api/v1/jobs/status', async (req) => jobs.get(requiredParam(req, 'id')))
    .route('POST', '/api/v1/jobs/stop', async (req) => jobs.stop(requiredParam(req, 'id')));
}
