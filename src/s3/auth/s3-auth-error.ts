import { S3Error } from '../s3-error.js';

/** The S3 error codes that request authentication and body decoding can answer with. */
export type S3AuthErrorCode =
  | 'AccessDenied'
  | 'AuthorizationHeaderMalformed'
  | 'AuthorizationQueryParametersError'
  | 'BadDigest'
  | 'IncompleteBody'
  | 'InvalidAccessKeyId'
  | 'InvalidArgument'
  | 'InvalidRequest'
  | 'MalformedTrailerError'
  | 'MissingContentLength'
  | 'MissingSecurityHeader'
  | 'RequestTimeTooSkewed'
  | 'SignatureDoesNotMatch'
  | 'XAmzContentSHA256Mismatch';

/** The HTTP status S3 answers each code with. */
const STATUS: Readonly<Record<S3AuthErrorCode, number>> = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  IncompleteBody: 400,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidRequest: 400,
  MalformedTrailerError: 400,
  MissingContentLength: 411,
  MissingSecurityHeader: 400,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
};

export interface S3AuthErrorOptions {
  /**
   * Extra elements for the S3 error document, as S3 itself sends them (e.g. `CanonicalRequest` and
   * `StringToSign` for SignatureDoesNotMatch, `RequestTime` and `ServerTime` for RequestTimeTooSkewed).
   * They never contain a secret.
   */
  details?: Readonly<Record<string, string>>;
}

/**
 * A request that failed authentication or whose body failed verification. An S3Error, so the S3
 * server sends it as it is (code, status, details); never worth retrying unchanged.
 */
export class S3AuthError extends S3Error {
  declare readonly s3Code: S3AuthErrorCode;

  constructor(s3Code: S3AuthErrorCode, message: string, options: S3AuthErrorOptions = {}) {
    super(s3Code, STATUS[s3Code], message, { ...options.details });
    this.name = 'S3AuthError';
  }
}

export function isS3AuthError(error: unknown, s3Code?: S3AuthErrorCode): error is S3AuthError {
  return error instanceof S3AuthError && (s3Code === undefined || error.s3Code === s3Code);
}
