import { createHash } from 'node:crypto';
import { S3AuthError } from './s3-auth-error.js';

export interface VerifySha256Options {
  /** The Content-Length, when known: fewer bytes fail with IncompleteBody, more with InvalidRequest. */
  contentLength?: number;
  signal?: AbortSignal;
}

/**
 * Passes a body through while hashing it, and fails at the end unless it hashed to `expectedHex` (the
 * x-amz-content-sha256 the request was signed with). Bytes are yielded before the check, so the body is
 * trustworthy only once iteration completes without throwing: write it somewhere temporary, commit after.
 * @throws S3AuthError XAmzContentSHA256Mismatch, IncompleteBody, InvalidRequest (more bytes than declared).
 */
export async function* verifySha256Payload(
  body: AsyncIterable<Uint8Array>,
  expectedHex: string,
  options: VerifySha256Options = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const piece of body) {
    options.signal?.throwIfAborted();
    length += piece.byteLength;
    if (options.contentLength !== undefined && length > options.contentLength) {
      throw new S3AuthError('InvalidRequest', `Cannot accept the body: it is longer than its Content-Length ${options.contentLength}`);
    }
    hash.update(piece);
    yield piece;
  }
  if (options.contentLength !== undefined && length < options.contentLength) {
    throw new S3AuthError('IncompleteBody', `Cannot accept the body: it ended after ${length} of its ${options.contentLength} bytes`);
  }
  assertPayloadHash(hash.digest('hex'), expectedHex);
}

/**
 * For handlers that hash the body themselves: the final x-amz-content-sha256 check.
 * @throws S3AuthError XAmzContentSHA256Mismatch when the hashes differ (compared case-insensitively).
 */
export function assertPayloadHash(actualHex: string, expectedHex: string): void {
  if (actualHex.toLowerCase() !== expectedHex.toLowerCase()) {
    throw new S3AuthError(
      'XAmzContentSHA256Mismatch',
      `Cannot accept the body: its SHA-256 ${actualHex} does not match the x-amz-content-sha256 ${expectedHex} it was signed with`,
      { details: { ClientComputedContentSHA256: expectedHex, S3ComputedContentSHA256: actualHex } },
    );
  }
}
