import { DoraError, describeCause, isDoraError, type ErrorCode } from '../../common/errors.js';
import { fromNetworkError } from '../../common/system-errors.js';

/** An answer whose status is an error (or a redirect dora cannot follow), from an HTTP server. */
export class HttpStatusError extends Error {
  readonly status: number;

  constructor(status: number, detail?: string) {
    super(`HTTP ${status}${detail === undefined ? '' : `: ${detail}`}`);
    this.name = 'HttpStatusError';
    this.status = status;
  }
}

/** An answer dora cannot use (no size, an index page that is none): the server lacks what dora needs. */
export class HttpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpProtocolError';
  }
}

/** What each HTTP status means to dora, and the cause a message names. Other 5xx: UNAVAILABLE. */
const CODE_BY_STATUS: Readonly<Record<number, [ErrorCode, string]>> = {
  400: ['INVALID_ARGUMENT', 'the server refused the request as invalid'],
  401: ['PERMISSION_DENIED', 'the server wants credentials, or refused the ones given'],
  403: ['PERMISSION_DENIED', 'access denied'],
  404: ['NOT_FOUND', 'no such file or directory'],
  407: ['PERMISSION_DENIED', 'the proxy wants credentials'],
  408: ['DEADLINE_EXCEEDED', 'the server timed out waiting for the request'],
  410: ['NOT_FOUND', 'no such file or directory (gone)'],
  412: ['FAILED_PRECONDITION', 'the file changed'],
  416: ['OUT_OF_RANGE', 'the range is not satisfiable'],
  429: ['UNAVAILABLE', 'the server asks to slow down'],
};

/** Node's codes for a server certificate that TLS verification refused. */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Translates what a request to an HTTP server threw into a DoraError: `${attempt}: ${cause}`.
 * Statuses map by `CODE_BY_STATUS` (5xx: UNAVAILABLE, retryable), an untrusted certificate to
 * FAILED_PRECONDITION (it will not pass by itself), undici's and Node's network errors by their
 * codes (retryable where a connection failed), aborts to CANCELLED or DEADLINE_EXCEEDED.
 */
export function fromHttpError(error: unknown, attempt: string): DoraError {
  if (isDoraError(error)) return error;
  if (error instanceof HttpStatusError) {
    const known = CODE_BY_STATUS[error.status];
    if (known !== undefined) return new DoraError(known[0], `${attempt}: ${known[1]}`, { cause: error });
    if (error.status >= 500) return new DoraError('UNAVAILABLE', `${attempt}: the server answered ${error.message}`, { cause: error });
    return new DoraError('FAILED_PRECONDITION', `${attempt}: the server answered ${error.message}`, { cause: error });
  }
  if (error instanceof HttpProtocolError) return new DoraError('UNIMPLEMENTED', `${attempt}: ${error.message}`, { cause: error });
  const e = (error ?? {}) as { code?: unknown };
  if (typeof e.code === 'string' && CERTIFICATE_ERRORS.has(e.code)) {
    return new DoraError('FAILED_PRECONDITION', `${attempt}: the server's TLS certificate is not trusted (${describeCause(error)}); the option insecure=true accepts it`, { cause: error });
  }
  return fromNetworkError(error, attempt) ?? new DoraError('INTERNAL', `${attempt}: ${describeCause(error)}`, { cause: error });
}
