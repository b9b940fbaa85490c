import { DoraError, describeCause, isDoraError, type ErrorCode } from './errors.js';

/** errno names reported by Node's fs and net layers, and the dora code each means. */
const CODE_BY_ERRNO: Readonly<Record<string, ErrorCode>> = {
  ENOENT: 'NOT_FOUND',
  EEXIST: 'ALREADY_EXISTS',
  EACCES: 'PERMISSION_DENIED',
  EPERM: 'PERMISSION_DENIED',
  EROFS: 'PERMISSION_DENIED',
  ENOSPC: 'RESOURCE_EXHAUSTED',
  EDQUOT: 'RESOURCE_EXHAUSTED',
  EMFILE: 'RESOURCE_EXHAUSTED',
  ENFILE: 'RESOURCE_EXHAUSTED',
  ENOTDIR: 'NOT_A_DIRECTORY',
  EISDIR: 'IS_A_DIRECTORY',
  ENOTEMPTY: 'DIRECTORY_NOT_EMPTY',
  ENAMETOOLONG: 'INVALID_ARGUMENT',
  EINVAL: 'INVALID_ARGUMENT',
  ELOOP: 'INVALID_ARGUMENT',
  EXDEV: 'FAILED_PRECONDITION',
  ECONNREFUSED: 'UNAVAILABLE',
  ECONNRESET: 'UNAVAILABLE',
  EPIPE: 'UNAVAILABLE',
  EHOSTUNREACH: 'UNAVAILABLE',
  ENETUNREACH: 'UNAVAILABLE',
  ENOTFOUND: 'UNAVAILABLE',
  ECONNABORTED: 'UNAVAILABLE',
  EHOSTDOWN: 'UNAVAILABLE',
  ENETDOWN: 'UNAVAILABLE',
  EAI_AGAIN: 'UNAVAILABLE',
  ETIMEDOUT: 'DEADLINE_EXCEEDED',
  EIO: 'UNAVAILABLE',
  ABORT_ERR: 'CANCELLED',
};

/** Errors whose condition can pass by itself (a reset, a busy disk) are retryable; a full disk is not. */
const RETRYABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ETIMEDOUT', 'EMFILE', 'ENFILE', 'EIO']);

/**
 * Translates an error from Node's fs/net layers (or an abort) into a DoraError whose message is
 * `${attempt}: ${cause}`. A DoraError passes through unchanged.
 */
export function fromSystemError(error: unknown, attempt: string): DoraError {
  if (isDoraError(error)) return error;
  const errno = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return abortedError(attempt, error);
  const code = typeof errno === 'string' ? CODE_BY_ERRNO[errno] : undefined;
  const opts = { cause: error, ...(typeof errno === 'string' && RETRYABLE_ERRNOS.has(errno) ? { retryable: true } : {}) };
  return new DoraError(code ?? 'INTERNAL', `${attempt}: ${describeCause(error)}`, opts);
}

/** undici's own error codes: a connection that broke or went silent, a client already closed. */
const UNDICI_ERRORS: Readonly<Record<string, readonly [ErrorCode, string, boolean]>> = {
  UND_ERR_SOCKET: ['UNAVAILABLE', 'the connection broke', true],
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: ['UNAVAILABLE', 'the answer ended early', true],
  UND_ERR_CONNECT_TIMEOUT: ['DEADLINE_EXCEEDED', 'timed out connecting', true],
  UND_ERR_HEADERS_TIMEOUT: ['DEADLINE_EXCEEDED', 'timed out waiting for the answer', true],
  UND_ERR_BODY_TIMEOUT: ['DEADLINE_EXCEEDED', 'timed out waiting for the body', true],
  UND_ERR_DESTROYED: ['FAILED_PRECONDITION', 'the store is closed', false],
  UND_ERR_CLOSED: ['FAILED_PRECONDITION', 'the store is closed', false],
};

/**
 * Translates what an HTTP call (undici) threw when no answer came: an abort, one of undici's own
 * codes, or the socket's errno — on the error itself or on what it wraps (fetch's "fetch failed",
 * a connect's AggregateError). Undefined when it is none of these, so the caller says what else it was.
 */
export function fromNetworkError(error: unknown, attempt: string): DoraError | undefined {
  if (isDoraError(error)) return error;
  let e = error;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++, e = e instanceof AggregateError ? e.errors[0] : (e as { cause?: unknown }).cause) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (name === 'AbortError' || name === 'TimeoutError' || code === 'UND_ERR_ABORTED') return abortedError(attempt, e);
    if (typeof code !== 'string') continue;
    const undici = UNDICI_ERRORS[code];
    if (undici !== undefined) return new DoraError(undici[0], `${attempt}: ${undici[1]}`, { cause: error, ...(undici[2] ? { retryable: true } : {}) });
    if (!/^E[A-Z_]+$/.test(code)) continue;
    const system = fromSystemError(e, attempt);
    if (system.code !== 'UNAVAILABLE') return system;
    return new DoraError('UNAVAILABLE', `${attempt}: the store cannot be reached (${describeCause(e)})`, { cause: error, retryable: true });
  }
  return undefined;
}

/** The error for an operation stopped by its AbortSignal: CANCELLED, or DEADLINE_EXCEEDED for a timeout. */
export function abortedError(attempt: string, reason: unknown): DoraError {
  if (isDoraError(reason)) return reason;
  const timedOut = (reason as { name?: unknown } | null)?.name === 'TimeoutError';
  return timedOut
    ? new DoraError('DEADLINE_EXCEEDED', `${attempt}: timed out`, { cause: reason })
    : new DoraError('CANCELLED', `${attempt}: cancelled`, { cause: reason });
}

/** Throws the DoraError for an aborted signal; a no-op when the signal is absent or live. */
export function throwIfAborted(signal: AbortSignal | undefined, attempt: string): void {
  if (signal?.aborted) throw abortedError(attempt, signal.reason);
}
