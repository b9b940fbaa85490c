import { Readable } from 'node:stream';
import { DoraError } from '../../common/errors.js';

/**
 * The `take` bytes of `body` after its first `skip`: what a read wanted from an answer that
 * holds more (a server that ignored the Range header sends the whole file). Skipped bytes are
 * still downloaded; once `take` bytes are out, the body is destroyed, which closes its
 * connection. A body that ends early fails with UNAVAILABLE (retryable).
 */
export function sliceBody(body: Readable, skip: number, take: number, attempt: string): Readable {
  async function* slice(): AsyncGenerator<Uint8Array> {
    let toSkip = skip;
    let left = take;
    if (left === 0) return;
    for await (const data of body as AsyncIterable<Uint8Array>) {
      let chunk = data;
      if (toSkip > 0) {
        if (chunk.byteLength <= toSkip) {
          toSkip -= chunk.byteLength;
          continue;
        }
        chunk = chunk.subarray(toSkip);
        toSkip = 0;
      }
      if (chunk.byteLength >= left) {
        yield chunk.subarray(0, left);
        return; // leaving the loop destroys the body
      }
      left -= chunk.byteLength;
      yield chunk;
    }
    throw new DoraError('UNAVAILABLE', `${attempt}: the answer ended ${left} bytes early`);
  }
  body.on('error', () => undefined); // reported through the iteration; a body cut short errs once more
  const out = Readable.from(slice(), { objectMode: false });
  out.on('close', () => discard(body));
  return out;
}

/** Drops a body no longer wanted (closing its connection), without the error undici then emits. */
export function discard(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => undefined);
  body.destroy();
}

/** Reads a body as UTF-8 text, failing with RESOURCE_EXHAUSTED past `limit` bytes. */
export async function readText(body: AsyncIterable<Uint8Array>, limit: number, attempt: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit) {
      throw new DoraError('RESOURCE_EXHAUSTED', `${attempt}: the index page is larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks).toString('utf8');
}
