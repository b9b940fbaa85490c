import { Readable } from 'node:stream';
import { DoraError, describeCause, isDoraError } from '../common/errors.js';
import { isUnreachable } from './remote-error.js';

/** Bytes of one file from wherever they were opened (a worker or the store). */
export interface OpenedBytes {
  /** Fails only with DoraErrors. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** The version the bytes belong to; '' when unknown. */
  readonly version: string;
}

/**
 * Opens bytes [offset, offset + length) (length undefined: to the end). With `expectVersion`,
 * fails with ABORTED unless the file still has that version.
 */
export type BytesOpener = (range: { offset: number; length: number | undefined }, expectVersion: string | undefined) => Promise<OpenedBytes>;

export interface ReadStreamOptions {
  readonly offset: number;
  readonly length: number | undefined;
  /** Read exactly this version: ABORTED, never retried, when the file has another. */
  readonly version?: string | undefined;
  readonly open: BytesOpener;
  /** Called when a read is started again because the file changed before any byte was delivered. */
  readonly onRetry?: () => void;
  /** Called once when the read ends: every byte delivered, failed (with `error`), or dropped by the reader. */
  readonly onEnd?: (delivered: number, error?: unknown) => void;
}

/** Times one read resumes after its source stopped answering mid-stream. */
const MAX_RESUMES = 3;

/**
 * A byte stream over `open` that survives what can be survived:
 * - ABORTED (the file changed while it was served) before any byte was delivered: started again, once;
 * - the source becoming unreachable: reopened at the first missing byte (the opener falls back to
 *   the store), pinned to the version already delivered so versions never mix.
 * Resolves once the first source has answered, so a missing file fails here, not mid-stream.
 */
export async function openReadStream(options: ReadStreamOptions): Promise<Readable> {
  let retried = options.version !== undefined; // a pinned read is never started again on another version
  const whole = { offset: options.offset, length: options.length };
  let current: OpenedBytes;
  try {
    current = await options.open(whole, options.version).catch((error: unknown) => {
      if (!isDoraError(error, 'ABORTED') || retried) throw error;
      retried = true;
      options.onRetry?.();
      return options.open(whole, undefined);
    });
  } catch (error) {
    options.onEnd?.(0, error);
    throw error;
  }

  let delivered = 0;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let failure: unknown;
    try {
      yield* resumed();
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      options.onEnd?.(delivered, failure);
    }
  }

  async function* resumed(): AsyncGenerator<Uint8Array> {
    let resumes = 0;
    for (;;) {
      try {
        for await (const chunk of current.chunks) {
          delivered += chunk.byteLength;
          yield chunk;
        }
        return;
      } catch (raw) {
        const error = isDoraError(raw) ? raw : new DoraError('INTERNAL', `Cannot read at offset ${options.offset + delivered}: ${describeCause(raw)}`, { cause: raw });
        const rest = { offset: options.offset + delivered, length: options.length === undefined ? undefined : options.length - delivered };
        if (delivered === 0 && error.code === 'ABORTED' && !retried) {
          retried = true;
          options.onRetry?.();
          current = await options.open(rest, undefined);
        } else if (isUnreachable(error) && resumes < MAX_RESUMES && (delivered === 0 || current.version !== '')) {
          resumes++;
          current = await options.open(rest, delivered === 0 ? options.version : current.version);
        } else {
          throw error;
        }
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
