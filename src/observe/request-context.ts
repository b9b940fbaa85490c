import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while a request is served carries. */
export interface RequestContext {
  /** The id the server answered with (`x-request-id`, or an S3 `x-amz-request-id`). */
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (and everything it starts) as part of serving the request `context`. */
export function withRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The request being served by the code running now, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** The header a request id travels in between dora processes (a worker's lines carry its caller's id). */
export const REQUEST_ID_HEADER = 'x-request-id';
