import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while a request is served carries. */
export interface RequestContext {
  /** The id the server answered with (`x-request-id`, or an S3 `x-amz-request-id`). */
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Whether requests are followed through every call they make. Following one costs every promise
 * a hook on Node 20 (AsyncLocalStorage): about 14% of small S3 GETs' throughput, measured. So it
 * is on only where its lines are written: at log level debug or trace, and with tracing (whose
 * context needs the same hooks anyway). Lines a server writes about a request carry its id
 * either way.
 */
let following = false;

export function followRequests(on: boolean): void {
  following ||= on;
}

export function followingRequests(): boolean {
  return following;
}

/** Runs `fn` (and everything it starts) as part of serving the request `context`. */
export function withRequest<T>(context: RequestContext, fn: () => T): T {
  return following ? storage.run(context, fn) : fn();
}

/** The request being served by the code running now, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** The header a request id travels in between dora processes (a worker's lines carry its caller's id). */
export const REQUEST_ID_HEADER = 'x-request-id';
