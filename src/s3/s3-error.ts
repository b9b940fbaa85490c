import { DoraError, type ErrorCode } from '../common/errors.js';

/** An S3 error as the wire shows it: a code from the S3 API reference and its HTTP status. */
export class S3Error extends Error {
  readonly s3Code: string;
  readonly status: number;
  /** Extra elements of the XML body (BucketName, Key, …). */
  readonly details: Readonly<Record<string, string>>;

  constructor(s3Code: string, status: number, message: string, details: Record<string, string> = {}) {
    super(message);
    this.name = 'S3Error';
    this.s3Code = s3Code;
    this.status = status;
    this.details = details;
  }
}

/** The one table from dora error codes to S3 error codes and statuses. */
const S3_BY_CODE: Readonly<Record<ErrorCode, readonly [string, number]>> = {
  NOT_FOUND: ['NoSuchKey', 404],
  ALREADY_EXISTS: ['InvalidRequest', 409],
  INVALID_ARGUMENT: ['InvalidArgument', 400],
  PERMISSION_DENIED: ['AccessDenied', 403],
  RESOURCE_EXHAUSTED: ['ServiceUnavailable', 503],
  UNAVAILABLE: ['ServiceUnavailable', 503],
  DEADLINE_EXCEEDED: ['ServiceUnavailable', 503],
  FAILED_PRECONDITION: ['InvalidRequest', 409],
  OUT_OF_RANGE: ['InvalidRange', 416],
  NOT_A_DIRECTORY: ['InvalidRequest', 409],
  IS_A_DIRECTORY: ['NoSuchKey', 404],
  DIRECTORY_NOT_EMPTY: ['BucketNotEmpty', 409],
  CANCELLED: ['RequestTimeout', 400],
  ABORTED: ['ServiceUnavailable', 503],
  DATA_LOSS: ['InternalError', 500],
  UNIMPLEMENTED: ['NotImplemented', 501],
  INTERNAL: ['InternalError', 500],
};

/** Any failure as an S3 error: S3Errors pass through, DoraErrors go through the table. */
export function toS3Error(error: unknown, details: Record<string, string> = {}): S3Error {
  if (error instanceof S3Error) return error;
  if (error instanceof DoraError) {
    const [code, status] = S3_BY_CODE[error.code];
    return new S3Error(code, status, error.message, details);
  }
  return new S3Error('InternalError', 500, `We encountered an internal error: ${String(error)}`, details);
}
