import type { GcsApi, GcsObject, GcsObjectFields } from './gcs-api.js';
import type { ChunkReader } from '../../common/chunk-reader.js';

/** Every chunk of a resumable upload but the last is a multiple of this (Cloud Storage's rule). */
export const RESUMABLE_CHUNK_UNIT = 256 * 1024;

/** How long a failed upload's session may take to cancel. */
const CANCEL_TIMEOUT_MS = 10_000;

/** Chunks in a row the store may accept without keeping a byte before the upload is given up. */
const MAX_STALLS = 3;

export interface ResumableUpload {
  readonly bucket: string;
  readonly name: string;
  readonly fields: GcsObjectFields;
  /** The object's exact size, when known (sent with the session and every chunk). */
  readonly size?: number | undefined;
  /** Bytes per chunk: a multiple of RESUMABLE_CHUNK_UNIT. */
  readonly partSize: number;
}

/**
 * Writes an object through a resumable upload session
 * (https://cloud.google.com/storage/docs/performing-resumable-uploads): chunks of `partSize`
 * bytes, one at a time as the protocol requires, each answered with 308 and the bytes the
 * session holds; bytes it did not keep are sent again at the head of the next chunk. The chunk
 * that reaches the end carries the total size, and the object appears, whole, when the session
 * finalizes it. At most one buffer of `partSize` bytes (and one source chunk) is held. On any
 * failure the session is cancelled (DELETE), so nothing is left behind, and the error is thrown.
 *
 * `reader` may already hold bytes: `buffer[0, used)` (the first chunk, read before it was known
 * that the object needs a session). `buffer.length` is `partSize`.
 */
export async function uploadResumable(
  api: GcsApi,
  upload: ResumableUpload,
  source: { reader: ChunkReader; buffer: Uint8Array; used: number },
  signal: AbortSignal | undefined,
): Promise<GcsObject> {
  const { reader, buffer } = source;
  const session = await api.startResumable(upload.bucket, upload.name, { ...upload.fields, size: upload.size }, signal);
  let used = source.used;
  let offset = 0;
  let stalls = 0;
  try {
    for (;;) {
      used = await reader.fill(buffer, used, signal);
      const last = reader.ended;
      const total = last ? offset + used : upload.size;
      const answer = await api.putChunk(session, buffer.subarray(0, used), { offset, total }, signal);
      if ('object' in answer) {
        if (!last) throw new Error(`the store finalized the upload at ${offset + used} bytes, before the end`);
        return answer.object;
      }
      const kept = answer.persisted - offset;
      if (kept < 0 || kept > used) throw new Error(`the store holds ${answer.persisted} bytes of an upload sent up to ${offset + used}`);
      stalls = kept === 0 ? stalls + 1 : 0;
      if (stalls >= MAX_STALLS) throw new Error(`the store kept none of the bytes from ${offset} on, ${MAX_STALLS} times`);
      // What the store did not keep goes again, first in the next chunk.
      buffer.copyWithin(0, kept, used);
      used -= kept;
      offset += kept;
    }
  } catch (error) {
    await reader.close().catch(() => undefined);
    await api.cancelResumable(session, AbortSignal.timeout(CANCEL_TIMEOUT_MS)).catch(() => undefined);
    throw error;
  }
}
