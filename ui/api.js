// The coordinator's public REST API (docs/worker-api.md, docs/jobs.md), as the console calls it.
// Every call throws ApiError: the server's { error: { code, message } }, or UNAVAILABLE when the
// coordinator could not be reached at all.

/** How long one call may take before the console gives up on it. */
const TIMEOUT_MS = 15_000;

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

async function call(method, path, { query, body, signal } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
  } catch (error) {
    if (signal?.aborted) throw error; // the page moved on: not a failure to show
    const why = timeout.aborted ? `no answer in ${TIMEOUT_MS / 1000} s` : error.message;
    throw new ApiError('UNAVAILABLE', `Cannot ${method} ${path}: the coordinator at ${window.location.origin} does not answer (${why})`, 0);
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  let parsed;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new ApiError(res.ok ? 'INTERNAL' : `HTTP_${res.status}`, `Cannot ${method} ${path}: the answer is not JSON (HTTP ${res.status}: ${text.slice(0, 200)})`, res.status);
  }
  if (parsed?.error !== undefined && typeof parsed.error.code === 'string') throw new ApiError(parsed.error.code, parsed.error.message ?? '', res.status);
  if (!res.ok) throw new ApiError(`HTTP_${res.status}`, `Cannot ${method} ${path}: HTTP ${res.status}`, res.status);
  return parsed;
}

/** `GET /api/v1/cluster`: every worker with its cache figures, and the totals. */
export const cluster = (signal) => call('GET', '/api/v1/cluster', { signal });
/** `GET /api/v1/cluster/history`: `{ intervalMs, points }`, oldest first. */
export const clusterHistory = (signal) => call('GET', '/api/v1/cluster/history', { signal });
/** `GET /api/v1/mounts`. */
export const mounts = async (signal) => (await call('GET', '/api/v1/mounts', { signal })).mounts;
/** `GET /api/v1/fs/list`: one level of a directory, 1000 entries a page. */
export const list = (path, startAfter, signal) => call('GET', '/api/v1/fs/list', { query: { path, startAfter }, signal });
/** `GET /api/v1/fs/status`: a path's status, owners and the workers holding it. */
export const status = (path, signal) => call('GET', '/api/v1/fs/status', { query: { path }, signal });

export const held = (path, signal) => call('GET', '/api/v1/fs/held', { query: { path }, signal });
/** `GET /api/v1/jobs`. */
export const jobs = async (signal) => (await call('GET', '/api/v1/jobs', { signal })).jobs;
/** `GET /api/v1/jobs/status`. */
export const job = (id, signal) => call('GET', '/api/v1/jobs/status', { query: { id }, signal });
/** `POST /api/v1/jobs`: answers the job (or the running one that does the same). */
export const submitJob = (spec) => call('POST', '/api/v1/jobs', { body: spec });
/** `POST /api/v1/jobs/stop`. */
export const stopJob = (id) => call('POST', '/api/v1/jobs/stop', { query: { id } });
