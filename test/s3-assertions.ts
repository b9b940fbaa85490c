import assert from 'node:assert/strict';
import { S3ServiceException } from '@aws-sdk/client-s3';

/** Expects an SDK call to fail with this S3 error code ('' for any, e.g. HEAD's bodiless errors) and HTTP status. */
export async function s3Rejects(promise: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof S3ServiceException, String(e));
    assert.equal(e.$metadata.httpStatusCode, status, `${e.name}: ${e.message}`);
    if (code !== '') assert.equal(e.name, code);
    return true;
  });
}
