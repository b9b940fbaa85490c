import { openPayloadBody } from './auth/open-payload-body.js';
import { S3Error } from './s3-error.js';
import type { S3Request } from './s3-request.js';

/**
 * The whole (small, XML) body of a request, its signature and checksums verified on the way.
 * Throws MaxMessageLengthExceeded past `maxBytes`, so a huge body never sits in memory.
 */
export async function readRequestBody(req: S3Request, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of openPayloadBody(req.raw as AsyncIterable<Uint8Array>, req.payload)) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.');
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
