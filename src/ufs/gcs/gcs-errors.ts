import { DoraError, describeCause, isDoraError, type ErrorCode } from '../../common/errors.js';
import { fromNetworkError } from '../../common/system-errors.js';

/**
 * An answer with an error status from Cloud Storage or its token endpoint. `detail` is the
 * store's own message: `error.message` of the JSON API's `{"error":{"code","message","errors"}}`,
 * or `error_description` of OAuth's `{"error","error_description"}`.
 */
export class GcsHttpError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly detail: string | undefined;

  constructor(status: number, body: string) {
    const parsed = parseErrorBody(body);
    super(`HTTP ${status}${parsed.detail === undefined ? '' : `: ${parsed.detail}`}`);
    this.name = 'GcsHttpError';
    this.status = status;
    this.reason = parsed.reason;
    this.detail = parsed.detail;
  }

  /** An error the client concludes without asking (say, a version that cannot be a generation), in the store's own shape. */
  static of(status: number, message: string): GcsHttpError {
    return new GcsHttpError(status, JSON.stringify({ error: { code: status, message } }));
  }
}

/** The token endpoint refused a service account's assertion (OAuth's `{"error","error_description"}`). */
export class GcsTokenError extends GcsHttpError {
  readonly account: string;

  constructor(status: number, body: string, account: string) {
    super(status, body);
    this.name = 'GcsTokenError';
    this.account = account;
  }
}

/** What each HTTP status means to dora, and the cause a message names. */
const CODE_BY_STATUS: Readonly<Record<number, [ErrorCode, string]>> = {
  400: ['INVALID_ARGUMENT', 'the store refused the request as invalid'],
  401: ['PERMISSION_DENIED', 'the credentials were refused'],
  403: ['PERMISSION_DENIED', 'access denied'],
  404: ['NOT_FOUND', 'not found'],
  408: ['DEADLINE_EXCEEDED', 'the store timed out waiting for the request'],
  409: ['FAILED_PRECONDITION', 'conflict'],
  410: ['NOT_FOUND', 'the upload session is gone'],
  412: ['FAILED_PRECONDITION', 'the object changed'],
  416: ['OUT_OF_RANGE', 'the range is not satisfiable'],
  429: ['UNAVAILABLE', 'the store asks to slow down'],
  499: ['CANCELLED', 'the upload was cancelled'],
};

/**
 * Translates what a call to Cloud Storage threw into a DoraError: `${attempt}: ${cause}`. HTTP
 * statuses map by `CODE_BY_STATUS` (5xx: UNAVAILABLE), undici's and Node's network errors by
 * their codes (retryable where a connection failed), aborts to CANCELLED or DEADLINE_EXCEEDED.
 */
export function fromGcsError(error: unknown, attempt: string): DoraError {
  if (isDoraError(error)) return error;
  if (error instanceof GcsTokenError) {
    // A refused assertion (invalid_grant: an unknown account, a bad signature) will not pass by itself.
    const code: ErrorCode = error.status >= 500 || error.status === 429 ? 'UNAVAILABLE' : 'PERMISSION_DENIED';
    const detail = error.detail === undefined ? '' : ` (${error.detail})`;
    return new DoraError(code, `${attempt}: the token endpoint refused service account "${error.account}"${detail}`, { cause: error });
  }
  if (error instanceof GcsHttpError) {
    const [code, cause] = CODE_BY_STATUS[error.status] ?? (error.status >= 500 ? ['UNAVAILABLE', `the store answered HTTP ${error.status}`] : ['INVALID_ARGUMENT', `the store answered HTTP ${error.status}`]);
    const detail = error.detail === undefined ? '' : ` (${error.detail})`;
    return new DoraError(code, `${attempt}: ${cause}${detail}`, { cause: error });
  }
  return fromNetworkError(error, attempt) ?? new DoraError('INTERNAL', `${attempt}: ${describeCause(error)}`, { cause: error });
}

/** The HTTP status of an error the store answered with, if it answered at all. */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof GcsHttpError ? error.status : undefined;
}

function parseErrorBody(body: string): { reason: string | undefined; detail: string | undefined } {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    if (typeof parsed.error === 'object' && parsed.error !== null) {
      const e = parsed.error as { message?: unknown; errors?: Array<{ reason?: unknown }> };
      const reason = e.errors?.[0]?.reason;
      return { reason: typeof reason === 'string' ? reason : undefined, detail: typeof e.message === 'string' ? e.message : undefined };
    }
    if (typeof parsed.error === 'string') {
      const description = typeof parsed.error_description === 'string' ? `: ${parsed.error_description}` : '';
      return { reason: parsed.error, detail: `${parsed.error}${description}` };
    }
  } catch {
    // not JSON: a proxy's page, say
  }
  const text = body.trim().slice(0, 200);
  return { reason: undefined, detail: text === '' ? undefined : text };
}
