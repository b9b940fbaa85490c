import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DoraError } from '../../common/errors.js';
import { fromSystemError, throwIfAborted } from '../../common/system-errors.js';
import type { UfsListOptions, UfsStatus } from '../under-file-system.js';
import { DIRECTORY_END, checkUfsPath, compareKeys, joinUfsPath } from '../ufs-path.js';
import type { LocalPath } from './local-path.js';
import { localStatus } from './local-status.js';

/** Files being written are hidden under this prefix until they are renamed into place. */
export const TEMP_PREFIX = '.dora-tmp-';

interface Entry {
  readonly name: string;
  readonly path: string;
  readonly host: string;
  readonly isDirectory: boolean;
}

/**
 * Walks a directory depth-first in S3 key order (each directory sorts as `name/`), holding one
 * directory's names per level of depth and statting entries only as they are yielded.
 */
export async function* listLocal(
  paths: LocalPath,
  path: string,
  options: UfsListOptions & { attempt: string; rootUri: string },
): AsyncGenerator<UfsStatus> {
  const { attempt } = options;
  let dir: string;
  try {
    throwIfAborted(options.signal, attempt);
    checkUfsPath(options.rootUri, path);
    dir = await paths.resolve(path, attempt);
    const top = await stat(dir);
    if (!top.isDirectory()) throw new DoraError('NOT_A_DIRECTORY', `${attempt}: it is a file`);
  } catch (error) {
    throw fromSystemError(error, attempt);
  }
  yield* walk(paths, dir, path, options);
}

async function* walk(
  paths: LocalPath,
  dir: string,
  path: string,
  options: UfsListOptions & { attempt: string },
): AsyncGenerator<UfsStatus> {
  const { attempt, startAfter } = options;
  for (const entry of await entries(paths, dir, path, attempt)) {
    throwIfAborted(options.signal, attempt);
    if (entry.isDirectory) {
      if (options.recursive === true) {
        // Descend unless every key below the directory sorts at or before `startAfter`.
        if (startAfter === undefined || compareKeys(entry.path + DIRECTORY_END, startAfter) > 0) {
          yield* walk(paths, entry.host, entry.path, options);
        }
        continue;
      }
      if (startAfter !== undefined && compareKeys(entry.path + DIRECTORY_END, startAfter) <= 0) continue;
    } else if (startAfter !== undefined && compareKeys(entry.path, startAfter) <= 0) {
      continue;
    }
    const status = await stat(entry.host, { bigint: true }).catch(() => undefined);
    if (status === undefined) continue; // removed while we listed
    if (entry.isDirectory || status.isFile()) yield localStatus(entry.path, status, attempt);
  }
}

/** One directory's entries in key order, without temporary files, special files and links leaving the root. */
async function entries(paths: LocalPath, dir: string, path: string, attempt: string): Promise<Entry[]> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return []; // removed while we listed
    throw fromSystemError(error, attempt);
  }
  const result: Entry[] = [];
  for (const dirent of dirents) {
    if (dirent.name.startsWith(TEMP_PREFIX)) continue;
    const host = join(dir, dirent.name);
    let isDirectory = dirent.isDirectory();
    if (dirent.isSymbolicLink()) {
      if (!(await paths.contains(host))) continue;
      const target = await stat(host).catch(() => undefined);
      if (target === undefined) continue;
      isDirectory = target.isDirectory();
    } else if (!isDirectory && !dirent.isFile()) {
      continue;
    }
    result.push({ name: dirent.name, path: joinUfsPath(path, dirent.name), host, isDirectory });
  }
  const sortKey = (e: Entry): string => (e.isDirectory ? `${e.name}/` : e.name);
  return result.sort((a, b) => compareKeys(sortKey(a), sortKey(b)));
}
