import { open, rename, unlink } from 'node:fs/promises';
import { tempPathFor } from './disk-page-layout.js';

/**
 * Writes `chunks` to a temporary file beside `path`, then renames it over `path`: a reader sees
 * the old file, no file, or the whole new one, never part of it. On any failure the temporary
 * file is removed (best effort: a crash leaves it for the next restore to delete) and the error
 * is rethrown; a short write (a disk filling up mid-write) fails with ENOSPC.
 *
 * No fsync: after a power cut the renamed file may be empty or torn, which its checksum catches
 * on the next read; paying a flush per page would cost more than refetching the rare lost page.
 */
export async function writeFileAtomically(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const temp = tempPathFor(path);
  const handle = await open(temp, 'wx');
  try {
    try {
      let pending = chunks.filter((c) => c.length > 0);
      // writev may write less than asked; go on from where it stopped until a call fails.
      while (pending.length > 0) {
        const { bytesWritten } = await handle.writev(pending);
        if (bytesWritten === 0) throw Object.assign(new Error(`Cannot write "${temp}": no space left on device`), { code: 'ENOSPC' });
        pending = remainder(pending, bytesWritten);
      }
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Removes a file; a file already gone is not an error. */
export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
}

function remainder(chunks: Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    out.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return out;
}
