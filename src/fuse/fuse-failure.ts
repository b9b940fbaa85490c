import { constants } from 'node:os';
import { describeCause, isDoraError } from '../common/errors.js';
import { log } from '../observe/log.js';
import { RequestIds } from '../observe/request-ids.js';
import { followingRequests, withRequest } from '../observe/request-context.js';
import { fuseErrno } from './fuse-errno.js';

const E = constants.errno;
const ids = new RequestIds();

/** Errnos that mean dora or a store failed (not the application's own mistake, such as a lookup of a missing name). */
const SERIOUS: ReadonlySet<number> = new Set([E.EIO, E.ETIMEDOUT, E.ENOSPC, E.ENOSYS]);
const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(E).map(([name, n]) => [n, name]));

/** One kernel request as dora observes it: an operation on a path (the path is worked out only when needed). */
export interface FuseRequest {
  readonly op: string;
  readonly path: () => string | undefined;
}

/**
 * Runs a FUSE operation as a request: when requests are followed (log level debug, tracing), with
 * an id every line it causes carries, the id the workers it calls log too; a failure gives the
 * errno to answer with and is logged — at warn when dora or a store failed (EIO, ETIMEDOUT,
 * ENOSPC, ENOSYS), at debug otherwise (ENOENT from a lookup is how applications probe for files).
 */
export async function runFuseRequest<T>(request: FuseRequest, work: () => Promise<T>): Promise<{ value: T } | { errno: number }> {
  const requestId = followingRequests() ? ids.next() : undefined;
  try {
    return { value: await (requestId === undefined ? work() : withRequest({ requestId }, work)) };
  } catch (error) {
    return { errno: failedRequest(request, error, requestId) };
  }
}

function failedRequest(request: FuseRequest, error: unknown, requestId: string | undefined): number {
  const errno = fuseErrno(error);
  const level = SERIOUS.has(-errno) ? 'warn' : 'debug';
  if (log.isLevelEnabled(level)) {
    const code = isDoraError(error) ? error.code : undefined;
    log[level]({ requestId: requestId ?? ids.next(), op: request.op, path: request.path(), errno: ERRNO_NAMES.get(-errno), code, err: describeCause(error) }, 'fuse request failed');
  }
  return errno;
}
