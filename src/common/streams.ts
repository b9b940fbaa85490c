import { PassThrough, Readable } from 'node:stream';
import { DoraError } from './errors.js';

/**
 * Re-emits `source` with every error translated by `translate`, so a consumer only ever sees
 * DoraErrors. Destroying the result destroys the source.
 */
export function translateStreamErrors(source: Readable, translate: (error: unknown) => Error): Readable {
  const out = new PassThrough({ highWaterMark: source.readableHighWaterMark });
  source.on('error', (error) => out.destroy(translate(error)));
  out.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(out);
  return out;
}

/** A readable of no bytes. */
export function emptyStream(): Readable {
  return Readable.from([]);
}

/**
 * Yields the chunks of `source`, failing with INVALID_ARGUMENT when it yields more or fewer
 * bytes than `size` (when given). `onBytes` learns the running total.
 */
export async function* checkedChunks(
  source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: { size?: number | undefined; attempt: string; onBytes?: (total: number) => void },
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (options.size !== undefined && total > options.size) {
      throw new DoraError('INVALID_ARGUMENT', `${options.attempt}: the source has more than the declared ${options.size} bytes`);
    }
    options.onBytes?.(total);
    yield chunk;
  }
  if (options.size !== undefined && total !== options.size) {
    throw new DoraError('INVALID_ARGUMENT', `${options.attempt}: the source ended after ${total} of the declared ${options.size} bytes`);
  }
}

/** Reads a whole stream into one buffer (tests and small metadata only). */
export async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return Buffer.concat(chunks);
}

/** Passes a stream's chunks through and calls `release` once it ends, however it ends. */
export async function* releasing(body: AsyncIterable<Uint8Array>, release: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } finally {
    release();
  }
}
