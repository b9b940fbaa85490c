import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from '@opentelemetry/api';
import { log } from './log.js';
import { followingRequests, withRequest } from './request-context.js';
import { SpanKind, extractTraceContext, inSpan, tracingEnabled, type Span } from './tracing.js';

export interface ServedRequest {
  /** The server, in log lines: `worker`, `coordinator`, `s3`. */
  readonly server: string;
  /** The request's id, made when first asked for (most requests of a busy server never need one). */
  readonly requestId: () => string;
  /** The route or operation, for the span name and metrics: `GET /v1/read`, `GetObject`. */
  readonly name: () => string;
  readonly slowMs: number;
  /** Told of each request when its answer is sent (metrics). */
  readonly onDone?: (seconds: number, status: number) => void;
}

/**
 * Serves one HTTP request as dora observes every request: `handle` runs with the request id (on
 * every log line it causes) and, when tracing, in a server span that continues the trace the
 * caller sent (`traceparent`); when the answer is sent, the request is logged (debug; warn when
 * slow or a 5xx) and `onDone` is told.
 */
export function serveObserved(raw: IncomingMessage, res: ServerResponse, request: ServedRequest, handle: (span: Span | undefined) => Promise<void>): Promise<void> {
  const started = performance.now();
  res.once('close', () => {
    const ms = performance.now() - started;
    const status = res.writableFinished ? res.statusCode : 499; // 499: the client went away first
    request.onDone?.(ms / 1000, status);
    const slow = ms >= request.slowMs;
    const level = status >= 500 || slow ? 'warn' : 'debug';
    if (!log.isLevelEnabled(level)) return;
    log[level]({ requestId: request.requestId(), server: request.server, method: raw.method, url: raw.url, route: request.name(), status, ms: Math.round(ms * 10) / 10 }, slow ? 'slow request' : 'request');
  });
  const serve = (): Promise<void> => {
    if (!tracingEnabled()) return handle(undefined);
    const parent: Context = extractTraceContext(raw.headers);
    return inSpan(
      `${request.server} ${raw.method ?? 'GET'}`,
      { 'http.request.method': raw.method ?? 'GET', 'url.path': (raw.url ?? '/').split('?')[0] ?? '/', 'dora.request_id': request.requestId() },
      async (span) => {
        try {
          await handle(span);
        } finally {
          span?.updateName(`${request.server} ${request.name()}`);
          span?.setAttribute('http.response.status_code', res.statusCode);
        }
      },
      { kind: SpanKind.SERVER, parent },
    );
  };
  return followingRequests() ? withRequest({ requestId: request.requestId() }, serve) : serve();
}
