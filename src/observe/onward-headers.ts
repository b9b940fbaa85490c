import { currentRequest, REQUEST_ID_HEADER } from './request-context.js';
import { injectTraceContext } from './tracing.js';

/**
 * Adds to `headers` what a call to another dora process carries on from the code running now: the
 * id of the request being served (when requests are followed) and the trace it belongs to
 * (`traceparent`, when calls are traced). Returns `headers`.
 */
export function withOnwardHeaders(headers: Record<string, string>): Record<string, string> {
  const request = currentRequest();
  if (request !== undefined) headers[REQUEST_ID_HEADER] = request.requestId;
  injectTraceContext(headers);
  return headers;
}
