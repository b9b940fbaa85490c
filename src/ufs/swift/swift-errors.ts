import { DoraError, describeCause, isDoraError, type ErrorCode } from '../../common/errors.js';
import { fromNetworkError } from '../../common/system-errors.js';

/**
 * An answer with an error status from Swift or from its identity service (TempAuth, Keystone).
 * `service` names the identity service for refused logins (`TempAuth at http://…/auth/v1.0`);
 * it is undefined for the store itself.
 */
export class SwiftHttpError extends Error {
  readonly status: number;
  /** The answer's body as text without markup, cut short, for messages. */
  readonly detail: string;
  readonly service: string | undefined;

  constructor(status: number, body: string, service?: string) {
    const detail = plainText(body);
    super(`${service === undefined ? 'the store' : service} answered HTTP ${status}${detail === '' ? '' : `: ${detail}`}`);
    this.name = 'SwiftHttpError';
    this.status = status;
    this.detail = detail;
    this.service = service;
  }
}

/** Something other than an HTTP status went wrong: a catalog without Swift, an answer that makes no sense. */
export class SwiftProtocolError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'SwiftProtocolError';
    this.code = code;
  }
}

/** HTTP statuses Swift answers and what each means to dora. */
const CODE_BY_STATUS: Readonly<Record<number, readonly [ErrorCode, string]>> = {
  400: ['INVALID_ARGUMENT', 'the store refused the request'],
  401: ['PERMISSION_DENIED', 'the store refused the token'],
  403: ['PERMISSION_DENIED', 'access denied'],
  404: ['NOT_FOUND', 'no such container or object'],
  408: ['DEADLINE_EXCEEDED', 'the store timed out waiting for the request'],
  409: ['FAILED_PRECONDITION', 'the request conflicts with the state of the container or object'],
  411: ['INVALID_ARGUMENT', 'the store needs a length'],
  412: ['FAILED_PRECONDITION', 'the object changed'],
  413: ['INVALID_ARGUMENT', 'the object is larger than the store allows'],
  416: ['OUT_OF_RANGE', 'the range is not satisfiable'],
  422: ['DATA_LOSS', 'the store received other bytes than were sent (ETag mismatch)'],
  429: ['UNAVAILABLE', 'the store asks to slow down'],
  498: ['UNAVAILABLE', 'the store asks to slow down (rate limited)'],
  503: ['UNAVAILABLE', 'the store is unavailable'],
  504: ['DEADLINE_EXCEEDED', 'the store timed out'],
  507: ['RESOURCE_EXHAUSTED', 'the store is out of space'],
};

/**
 * Translates what a Swift call threw into a DoraError: `${attempt}: ${cause}`. An answer maps by
 * its status (a refused login or token is PERMISSION_DENIED, a quota's 413 and a 507
 * RESOURCE_EXHAUSTED, other 5xx UNAVAILABLE); no answer is UNAVAILABLE (a timeout
 * DEADLINE_EXCEEDED), both retryable; an abort is CANCELLED. A DoraError passes unchanged.
 */
export function fromSwiftError(error: unknown, attempt: string): DoraError {
  if (isDoraError(error)) return error;
  if (error instanceof SwiftHttpError) return fromStatus(error, attempt);
  if (error instanceof SwiftProtocolError) return new DoraError(error.code, `${attempt}: ${error.message}`, { cause: error });
  return fromNetworkError(error, attempt) ?? new DoraError('INTERNAL', `${attempt}: ${describeCause(error)}`, { cause: error });
}

function fromStatus(error: SwiftHttpError, attempt: string): DoraError {
  const { status, detail, service } = error;
  const said = detail === '' ? `HTTP ${status}` : `HTTP ${status}: ${detail}`;
  if (service !== undefined && (status === 401 || status === 403)) {
    return new DoraError('PERMISSION_DENIED', `${attempt}: ${service} refused the credentials (${said})`, { cause: error });
  }
  if (status === 413 && /quota/i.test(detail)) {
    return new DoraError('RESOURCE_EXHAUSTED', `${attempt}: the container or account quota is used up (${said})`, { cause: error });
  }
  const known = CODE_BY_STATUS[status] ?? (status >= 500 ? (['UNAVAILABLE', 'the store failed'] as const) : (['INVALID_ARGUMENT', 'the store refused the request'] as const));
  const cause = service === undefined ? known[1] : `${service} failed`;
  return new DoraError(known[0], `${attempt}: ${cause} (${said})`, { cause: error });
}

/** The HTTP status of an error Swift answered with, if it answered at all. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof SwiftHttpError ? error.status : undefined;
}

/** Swift's error bodies are small HTML pages: the text, without tags, on one line, at most 200 characters. */
function plainText(body: string): string {
  const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
