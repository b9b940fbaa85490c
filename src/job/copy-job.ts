import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DoraClient } from '../client/dora-client.js';
import type { FileStatus } from '../client/client-types.js';
import { DoraError, isDoraError } from '../common/errors.js';
import type { CopySpec } from './job-types.js';
import type { JobRunOptions, TreeWork } from './tree-runner.js';

/**
 * A copy or move: each file under `from` streamed through the workers to the same relative path
 * under `to`, with its content type and metadata. The store commits a file only once all its bytes
 * arrived (a temporary file renamed, a multipart upload completed), so a failure never leaves a
 * partial object. Every copy is checked: the bytes read must match the source's size (and its MD5,
 * where its ETag is one), the file written must have the size and MD5 of those bytes (where the
 * destination reports an MD5), and with `checkContent` it is read back and compared. A copy that
 * fails a check is deleted and retried. A move deletes the source only after its copy passed, and
 * only if it is still the version copied; at the end it removes source directories left empty.
 */
export function copyWork(options: JobRunOptions<CopySpec>): TreeWork {
  const { client, spec } = options;
  let fileTarget: Promise<string> | undefined;
  const targetOf = (file: FileStatus, signal: AbortSignal): Promise<string> => {
    if (file.path !== spec.from) return Promise.resolve(spec.to + file.path.slice(spec.from.length));
    // The source is one file: copied onto `to`, or into it when `to` is a directory.
    fileTarget ??= statOrNone(client, spec.to, signal).then((to) => (to?.kind === 'directory' ? `${spec.to === '/' ? '' : spec.to}/${file.name}` : spec.to));
    return fileTarget;
  };
  return {
    root: spec.from,
    bandwidth: spec.bandwidth,
    async each(file, signal) {
      const source = await client.stat(file.path, { attributes: true, signal }); // NOT_FOUND: gone meanwhile, skipped
      const target = await targetOf(file, signal);
      await client.invalidate(target, { signal }); // what is there now, not what a worker saw within its sync interval
      const existing = await statOrNone(client, target, signal);
      if (existing?.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `Cannot ${spec.kind} "${source.path}" to "${target}": a directory is there`);
      if (existing !== undefined && spec.overwrite !== true) {
        if (!(await sameContent(client, source, existing, spec.checkContent === true, signal))) {
          throw new DoraError('ALREADY_EXISTS', `Cannot ${spec.kind} "${source.path}" to "${target}": a different file is there (--overwrite replaces it)`);
        }
      } else {
        await copyChecked(client, source, target, spec.checkContent === true, signal);
      }
      if (spec.kind === 'move') await deleteIfUnchanged(client, source, signal);
      return 'done';
    },
    ...(spec.kind === 'move' ? { finish: (signal: AbortSignal) => removeEmptied(client, spec.from, signal) } : {}),
  };
}

/** Streams `source` (pinned to its version) to `target` and checks what arrived; a copy failing a check is deleted. */
async function copyChecked(client: DoraClient, source: FileStatus, target: string, checkContent: boolean, signal: AbortSignal): Promise<void> {
  const attempt = `Cannot copy "${source.path}" to "${target}"`;
  const digest = createHash('md5');
  let read = 0;
  const body = await client.read(source.path, { version: source.version, signal });
  const counted = async function* (stream: Readable): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      digest.update(chunk);
      read += chunk.length;
      yield chunk;
    }
  };
  const written = await client.write(target, counted(body), { size: source.size, contentType: source.contentType, metadata: source.metadata, signal });
  const md5 = digest.digest('hex');
  const problem =
    read !== source.size
      ? `${read} bytes were read of ${source.size}`
      : isMd5(source.etag) && source.etag !== md5
        ? `the bytes read have MD5 ${md5}, the source's is ${source.etag}`
        : written.size !== source.size
          ? `the copy has ${written.size} bytes, the source ${source.size}`
          : isMd5(written.etag) && written.etag !== md5
            ? `the copy has MD5 ${written.etag}, the bytes sent ${md5}`
            : checkContent && (await contentMd5(client, written, signal)) !== md5
              ? 'the copy read back differs from the bytes sent'
              : undefined;
  if (problem === undefined) return;
  await client.delete(target, { signal }).catch(() => undefined);
  throw new DoraError('DATA_LOSS', `${attempt}: ${problem}`);
}

/** Whether an existing destination already holds the source: same size, same MD5 where both are known (or read, with `checkContent`). */
async function sameContent(client: DoraClient, source: FileStatus, existing: FileStatus, checkContent: boolean, signal: AbortSignal): Promise<boolean> {
  if (existing.size !== source.size) return false;
  if (checkContent) return (await contentMd5(client, source, signal)) === (await contentMd5(client, existing, signal));
  return !(isMd5(source.etag) && isMd5(existing.etag) && source.etag !== existing.etag);
}

/** A move's last step: the source goes only while it is still the version copied. */
async function deleteIfUnchanged(client: DoraClient, source: FileStatus, signal: AbortSignal): Promise<void> {
  await client.invalidate(source.path, { signal });
  const now = await statOrNone(client, source.path, signal);
  if (now === undefined) return;
  if (now.version !== source.version) {
    throw new DoraError('ABORTED', `Cannot move "${source.path}": it changed in the store after it was copied; kept`, { retryable: false });
  }
  await client.delete(source.path, { signal });
}

/** After a move: the source directory is removed once no file is left in it (a mount point stays). */
async function removeEmptied(client: DoraClient, from: string, signal: AbortSignal): Promise<void> {
  const root = await statOrNone(client, from, signal);
  if (root?.kind !== 'directory') return;
  const page = await client.listPage(from, { recursive: true, limit: 1000, signal });
  if (page.entries.some((e) => e.kind === 'file') || page.next !== undefined) return;
  await client.delete(from, { recursive: true, signal }).catch((error: unknown) => {
    if (!isDoraError(error, 'FAILED_PRECONDITION')) throw error;
  });
}

/** The MD5 of a file's content at its version, read through the workers. */
async function contentMd5(client: DoraClient, file: FileStatus, signal: AbortSignal): Promise<string> {
  const digest = createHash('md5');
  for await (const chunk of (await client.read(file.path, { version: file.version, signal })) as AsyncIterable<Buffer>) digest.update(chunk);
  return digest.digest('hex');
}

async function statOrNone(client: DoraClient, path: string, signal: AbortSignal): Promise<FileStatus | undefined> {
  return client.stat(path, { signal }).catch((error: unknown) => {
    if (isDoraError(error, 'NOT_FOUND')) return undefined;
    throw error;
  });
}

/** Whether an ETag is a plain MD5 (a multipart upload's is not, nor a version made of mtime and size). */
function isMd5(etag: string | undefined): etag is string {
  return etag !== undefined && /^[0-9a-f]{32}$/.test(etag);
}
