import { DoraError, ERROR_CODES, describeCause, isDoraError, type ErrorCode } from '../common/errors.js';
import { abortedError } from '../common/system-errors.js';

/** The code an HTTP status means when the body says nothing better (the inverse of the contract's table). */
const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'FAILED_PRECONDITION',
  416: 'OUT_OF_RANGE',
  499: 'CANCELLED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
  507: 'RESOURCE_EXHAUSTED',
};

/** Failures that mean the peer could not be reached or stopped answering (not an answer it gave). */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN',
  'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** The errors made by `unreachableError`, so callers can tell "no answer" from an answered UNAVAILABLE. */
const unreachable = new WeakSet<DoraError>();

/**
 * The DoraError an error body describes: `{"error":{"code","message","retryable"}}` keeps its
 * code, message and flag; anything else gets the code of the HTTP status and a message naming
 * the server.
 */
export function errorFromBody(status: number, text: string, attempt: string, server: string): DoraError {
  const parsed = errorFromJson(parseJson(text)?.error);
  if (parsed !== undefined) return parsed;
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  const detail = text.trim().slice(0, 200);
  return new DoraError(code, `${attempt}: ${server} answered HTTP ${status}${detail === '' ? '' : ` (${detail})`}`);
}

/** The DoraError a JSON error (`{code, message, retryable}`, as `DoraError.toJSON` makes it) describes, if it is one. */
export function errorFromJson(value: unknown): DoraError | undefined {
  const error = value as { code?: unknown; message?: unknown; retryable?: unknown } | null | undefined;
  if (typeof error?.code !== 'string' || !ERROR_CODES.has(error.code) || typeof error.message !== 'string') return undefined;
  return new DoraError(error.code as ErrorCode, error.message, typeof error.retryable === 'boolean' ? { retryable: error.retryable } : {});
}

function parseJson(text: string): { error?: unknown } | undefined {
  try {
    return JSON.parse(text) as { error?: unknown } | undefined;
  } catch {
    return undefined;
  }
}

/** Whether `error` (or what caused it) says the connection failed, was reset, or timed out. */
export function isNetworkFailure(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (error instanceof AggregateError && error.errors.some((inner) => isNetworkFailure(inner, depth + 1))) return true;
  return isNetworkFailure((error as { cause?: unknown }).cause, depth + 1);
}

/**
 * Translates what a request to `server` threw: an abort by `signal` becomes CANCELLED (or
 * DEADLINE_EXCEEDED), a network failure UNAVAILABLE (retryable, and `isUnreachable`), a
 * DoraError passes through, anything else is INTERNAL.
 */
export function requestError(error: unknown, attempt: string, server: string, signal?: AbortSignal): DoraError {
  if (signal?.aborted === true) return isUnreachable(signal.reason) ? (signal.reason as DoraError) : abortedError(attempt, signal.reason);
  if (isDoraError(error)) return error;
  if (isNetworkFailure(error)) return unreachableError(error, attempt, server);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
    return new DoraError('FAILED_PRECONDITION', `${attempt}: the client is closed`, { cause: error });
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return abortedError(attempt, error);
  return new DoraError('INTERNAL', `${attempt}: ${describeCause(error)}`, { cause: error });
}

/** UNAVAILABLE (retryable) for a peer that did not answer. */
export function unreachableError(cause: unknown, attempt: string, server: string): DoraError {
  return markUnreachable(new DoraError('UNAVAILABLE', `${attempt}: ${server} cannot be reached: ${describeNetworkCause(cause)}`, { cause, retryable: true }));
}

/** Marks `error` as "no answer", for fallback: e.g. UNAVAILABLE because no worker is listed at all. */
export function markUnreachable(error: DoraError): DoraError {
  unreachable.add(error);
  return error;
}

/** Whether `error` came from `unreachableError`: no answer, as opposed to an answer of UNAVAILABLE. */
export function isUnreachable(error: unknown): boolean {
  return isDoraError(error) && unreachable.has(error);
}

function describeNetworkCause(cause: unknown): string {
  if (cause instanceof AggregateError && cause.message === '' && cause.errors.length > 0) return describeCause(cause.errors[0]);
  return describeCause(cause);
}
