import type { DoraClient } from '../client/dora-client.js';
import { errorFromBody } from '../client/remote-error.js';
import type { ListPage } from '../client/worker-api.js';
import { DoraError, isDoraError } from '../common/errors.js';
import { requiredParam, type HttpRequest, type JsonServer } from '../http/json-server.js';
import { isUnder, normalizeDoraPath, relativeTo } from '../mount/dora-path.js';
import type { MountInfo } from '../mount/mount-info.js';
import { withOnwardHeaders } from '../observe/onward-headers.js';
import type { FileStatus } from '../worker/file-status.js';
import type { HeldChild } from '../worker/worker-service.js';
import type { WorkerDirectory } from './coordinator-routes.js';

/** Entries in one page of `GET /api/v1/fs/list`. */
const LIST_PAGE = 1000;
/** How long a status waits for one worker to say what it holds. */
const HELD_TIMEOUT_MS = 5000;

/** What one worker's page cache holds of a file (`GET /v1/held` on the worker). */
export interface HeldFile {
  readonly pages: number;
  readonly bytes: number;
  /** Pages of the version the worker last saw, held in any tier, of `of` pages in that version. */
  readonly current?: { readonly version: string; readonly pages: number; readonly of: number };
}

/**
 * The namespace as the web UI browses it (docs/worker-api.md): one level of a directory with each
 * file's owners on the ring, which workers' caches hold what of each entry of a directory, and one
 * path's status with its owners and the workers whose cache holds any of it. Calls go through the
 * coordinator's own client (the jobs' client).
 */
export function addNamespaceRoutes(server: JsonServer, deps: { client: () => DoraClient; workers: WorkerDirectory }): JsonServer {
  return server
    .route('GET', '/api/v1/fs/list', async (req) => {
      const path = normalizeDoraPath(requiredParam(req, 'path'));
      const client = deps.client();
      const startAfter = req.query.get('startAfter') || undefined;
      const page: ListPage = await client.listPage(path, { limit: LIST_PAGE, signal: req.signal, ...(startAfter === undefined ? {} : { startAfter }) }).catch(async (error: unknown) => {
        // No mount covers a directory above mount points ('/' with only '/sales' mounted): its entries are the mount points' paths.
        const above = isDoraError(error, 'NOT_FOUND') && startAfter === undefined ? mountPointsBelow(path, await client.mounts({ signal: req.signal })) : [];
        if (above.length === 0) throw error;
        return { entries: above };
      });
      const entries = await Promise.all(
        page.entries.map(async (entry) => (entry.kind === 'file' ? { ...entry, owners: await ownerIds(client, entry.path, req.signal) } : entry)),
      );
      return { path, entries, truncated: page.next !== undefined, ...(page.next === undefined ? {} : { next: page.next }) };
    })
    .route('GET', '/api/v1/fs/status', async (req) => {
      const path = normalizeDoraPath(requiredParam(req, 'path'));
      const client = deps.client();
      const [status, owners] = await Promise.all([client.stat(path, { signal: req.signal }), ownerIds(client, path, req.signal)]);
      if (status.kind !== 'file') return { status, owners, holders: [], unanswered: [] };
      return { status, owners, ...(await holders(deps.workers, path, req)) };
    })
    .route('GET', '/api/v1/fs/held', async (req) => heldEntries(deps.workers, normalizeDoraPath(requiredParam(req, 'path')), req));
}

/** The entries of a directory no mount covers: the next segment of each mount point below it, as directories. */
function mountPointsBelow(path: string, mounts: readonly MountInfo[]): FileStatus[] {
  const children = new Map<string, FileStatus>();
  for (const mount of mounts) {
    if (mount.path === path || !isUnder(mount.path, path)) continue;
    const name = relativeTo(mount.path, path).split('/')[0]!;
    const child = path === '/' ? `/${name}` : `${path}/${name}`;
    children.set(child, { path: child, name, kind: 'directory', size: 0, mtimeMs: 0, version: '', mount: child === mount.path ? mount.path : '' });
  }
  return [...children.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

async function ownerIds(client: DoraClient, path: string, signal: AbortSignal): Promise<string[]> {
  return (await client.owners(path, { signal })).map((w) => w.id);
}

/** What every live worker answered to `GET <route>?path=` (5 s at most each), and those that did not answer. */
async function askEveryWorker<T>(workers: WorkerDirectory, route: string, path: string, req: HttpRequest): Promise<{ answers: { id: string; value: T }[]; unanswered: { id: string; error: { code: string; message: string } }[] }> {
  const signal = AbortSignal.any([req.signal, AbortSignal.timeout(HELD_TIMEOUT_MS)]);
  const answers = await Promise.all(
    workers.members().map(async (w) => {
      try {
        const res = await fetch(`${w.address}${route}?${new URLSearchParams({ path })}`, { headers: withOnwardHeaders({}), signal });
        const text = await res.text();
        if (!res.ok) throw errorFromBody(res.status, text, `Cannot ask the worker at ${w.address} what it holds of "${path}"`, `the worker at ${w.address}`);
        return { id: w.id, value: JSON.parse(text) as T };
      } catch (error) {
        const e = isDoraError(error) ? error : new DoraError('UNAVAILABLE', `Cannot ask worker ${w.id} at ${w.address} what it holds of "${path}": ${String(error)}`);
        return { id: w.id, error: { code: e.code, message: e.message } };
      }
    }),
  );
  return {
    answers: answers.flatMap((a) => (a.error === undefined ? [{ id: a.id, value: a.value as T }] : [])),
    unanswered: answers.flatMap((a) => (a.error === undefined ? [] : [{ id: a.id, error: a.error }])),
  };
}

/** The workers whose cache holds any page of the file `path`, and those that did not answer. */
async function holders(workers: WorkerDirectory, path: string, req: HttpRequest) {
  const { answers, unanswered } = await askEveryWorker<HeldFile>(workers, '/v1/held', path, req);
  const held = answers.filter((a) => a.value.pages > 0);
  return {
    holders: held.map(({ id, value }) => ({ id, pages: value.pages, bytes: value.bytes, ...(value.current === undefined ? {} : { current: value.current }) })),
    unanswered,
  };
}

/** Each entry of the directory `path` that any worker's cache holds pages of, with those workers, and the workers that did not answer. */
async function heldEntries(workers: WorkerDirectory, path: string, req: HttpRequest) {
  const { answers, unanswered } = await askEveryWorker<{ children: HeldChild[] }>(workers, '/v1/held-children', path, req);
  const entries = new Map<string, { name: string; holders: { id: string; pages: number; bytes: number; files: number }[] }>();
  for (const { id, value } of answers) {
    for (const child of value.children) {
      const entry = entries.get(child.name) ?? { name: child.name, holders: [] };
      entry.holders.push({ id, pages: child.pages, bytes: child.bytes, files: child.files });
      entries.set(child.name, entry);
    }
  }
  return { path, entries: [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1)), unanswered };
}
