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
  EAI_AGAIN: 'UNAVAILABLE',
  ETIMEDOUT: 'DEADLINE_EXCEEDED',
  EIO: 'UNAVAILABLE',
  ABORT_ERR: 'CANCELLED',
};

/** Errors whose condition can pass by itself (a reset, a busy disk) are retryable; a full disk is not. */
const RETRYABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT', 'EMFILE', 'ENFILE', 'EIO']);

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
