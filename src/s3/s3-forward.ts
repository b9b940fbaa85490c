import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { S3Error } from './s3-error.js';

/**
 * Multipart uploads are staged on one worker's disk, so every call of one upload must reach the
 * same worker: the owner of the object's key. A request for an upload of a key another worker
 * owns is sent on to that worker's S3 API as it came (method, path, headers, body, so its
 * signature still holds there) and its answer passed back. The caller's `traceparent` goes on as
 * it came too (an S3 client may have signed it): the owner's span is a sibling of this gateway's.
 */
export function isMultipartCall(target: { readonly key: string; readonly query: URLSearchParams }): boolean {
  return target.key !== '' && (target.query.has('uploadId') || target.query.has('uploads'));
}

/** Sends `raw` on to the S3 API at `base` and streams the answer back into `res`. Throws ServiceUnavailable if it cannot be reached. */
export async function forwardRequest(raw: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
  const { hostname, port } = new URL(base);
  const upstream = request({ hostname, port, method: raw.method, path: raw.url, headers: { ...raw.headers, 'x-dora-forwarded': '1' } });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    upstream.once('response', resolve);
    upstream.once('error', reject);
  });
  try {
    await pipeline(raw, upstream);
    const answer = await answered;
    const headers = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !['x-amz-request-id', 'x-amz-id-2', 'server'].includes(name)));
    res.writeHead(answer.statusCode ?? 502, headers);
    await pipeline(answer, res);
  } catch (error) {
    upstream.destroy();
    if (res.headersSent) throw error;
    throw new S3Error('ServiceUnavailable', 503, `The worker holding this upload (${base}) could not be reached; retry`);
  }
}
