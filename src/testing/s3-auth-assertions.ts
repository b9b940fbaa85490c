import assert from 'node:assert/strict';
import { isS3AuthError, type S3AuthErrorCode } from '../s3/auth/s3-auth-error.js';

/** An `assert.throws`/`rejects` matcher: an S3AuthError with this code (and message, when given). */
export function rejectsAuth(s3Code: S3AuthErrorCode, message?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isS3AuthError(error), `expected an S3AuthError, got ${String(error)}`);
    assert.equal(error.s3Code, s3Code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}
