import { DoraError, describeCause, isDoraError, type ErrorCode } from '../../common/errors.js';
import { abortedError, fromSystemError } from '../../common/system-errors.js';

interface S3ErrorShape {
  name?: string;
  Code?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** S3 error codes (and SDK error names) and what each means to dora. */
const CODE_BY_S3_ERROR: Readonly<Record<string, [ErrorCode, string]>> = {
  NoSuchKey: ['NOT_FOUND', 'no such key'],
  NotFound: ['NOT_FOUND', 'no such key'],
  NoSuchBucket: ['NOT_FOUND', 'the bucket does not exist'],
  NoSuchUpload: ['NOT_FOUND', 'no such multipart upload'],
  AccessDenied: ['PERMISSION_DENIED', 'access denied'],
  InvalidAccessKeyId: ['PERMISSION_DENIED', 'the access key is not known to the store'],
  SignatureDoesNotMatch: ['PERMISSION_DENIED', 'the secret key does not match the access key'],
  AllAccessDisabled: ['PERMISSION_DENIED', 'access disabled'],
  PreconditionFailed: ['FAILED_PRECONDITION', 'the object changed'],
  InvalidRange: ['OUT_OF_RANGE', 'the range is not satisfiable'],
  InvalidPart: ['INVALID_ARGUMENT', 'a part is missing or its ETag does not match'],
  InvalidPartOrder: ['INVALID_ARGUMENT', 'parts are not in ascending order'],
  EntityTooSmall: ['INVALID_ARGUMENT', 'a part other than the last is smaller than the store allows'],
  EntityTooLarge: ['INVALID_ARGUMENT', 'the object is larger than the store allows'],
  InvalidArgument: ['INVALID_ARGUMENT', 'invalid argument'],
  InvalidBucketName: ['INVALID_ARGUMENT', 'invalid bucket name'],
  KeyTooLongError: ['INVALID_ARGUMENT', 'the key is too long'],
  SlowDown: ['UNAVAILABLE', 'the store asks to slow down'],
  Throttling: ['UNAVAILABLE', 'throttled'],
  ThrottlingException: ['UNAVAILABLE', 'throttled'],
  RequestLimitExceeded: ['UNAVAILABLE', 'throttled'],
  ServiceUnavailable: ['UNAVAILABLE', 'the store is unavailable'],
  InternalError: ['UNAVAILABLE', 'the store had an internal error'],
  RequestTimeout: ['DEADLINE_EXCEEDED', 'the store timed out waiting for the request'],
  TimeoutError: ['DEADLINE_EXCEEDED', 'timed out'],
  NotImplemented: ['UNIMPLEMENTED', 'the store does not implement the operation'],
};

/** The code for an HTTP status when the error code says nothing known. */
function codeForStatus(status: number | undefined): ErrorCode | undefined {
  if (status === undefined) return undefined;
  if (status === 404) return 'NOT_FOUND';
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  if (status === 412) return 'FAILED_PRECONDITION';
  if (status === 416) return 'OUT_OF_RANGE';
  if (status === 408) return 'DEADLINE_EXCEEDED';
  if (status === 429 || status >= 500) return 'UNAVAILABLE';
  if (status >= 400) return 'INVALID_ARGUMENT';
  return undefined;
}

/** Translates an AWS SDK (or network) error into a DoraError: `${attempt}: ${cause}`. */
export function fromS3Error(error: unknown, attempt: string): DoraError {
  if (isDoraError(error)) return error;
  const e = (error ?? {}) as S3ErrorShape;
  if (e.name === 'AbortError') return abortedError(attempt, error);
  // The SDK names some socket failures (ECONNRESET, EPIPE) TimeoutError; the errno says what happened.
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return fromSystemError(error, attempt);
  const status = e.$metadata?.httpStatusCode;
  const known = CODE_BY_S3_ERROR[e.Code ?? e.name ?? ''];
  if (known !== undefined) {
    const detail = e.message !== undefined && e.message !== '' && e.message !== e.name && e.message !== 'UnknownError' ? ` (${e.message})` : '';
    return new DoraError(known[0], `${attempt}: ${known[1]}${detail}`, { cause: error });
  }
  const byStatus = codeForStatus(status);
  if (byStatus !== undefined) {
    return new DoraError(byStatus, `${attempt}: the store answered HTTP ${status} ${e.name ?? ''}`.trimEnd(), { cause: error });
  }
  if (typeof e.code === 'string') return fromSystemError(error, attempt); // ECONNREFUSED and friends
  return new DoraError('INTERNAL', `${attempt}: ${describeCause(error)}`, { cause: error });
}

/** The HTTP status of an SDK error, if the store answered at all. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as S3ErrorShape | null)?.$metadata?.httpStatusCode;
}
