import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DoraError } from '../../common/errors.js';
import { fromSystemError, throwIfAborted } from '../../common/system-errors.js';
import type { UfsListOptions, UfsStatus } from '../under-file-system.js';
import { DIRECTORY_END, checkUfsPath, compareKeys, joinUfsPath } from '../ufs-path.js';
import type { LocalPath } from './local-path.js';
import { isInternalName, LocalSidecar, SIDECAR_PREFIX } from './local-sidecar.js';
import { localStatus } from './local-status.js';

interface Entry {
  readonly name: string;
  readonly path: string;
  readonly host: string;
  readonly isDirectory: boolean;
  /** The file's sidecar, when the directory holds one of its name. */
  readonly sidecar: LocalSidecar | undefined;
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
    if (!entry.isDirectory && !status.isFile()) continue;
    const listed = localStatus(entry.path, status, attempt);
    const etag = entry.isDirectory ? undefined : (await entry.sidecar?.read(listed.version))?.etag;
    yield etag === undefined ? listed : { ...listed, etag };
  }
}

/** One directory's entries in key order, without dora's own files, special files and links leaving the root. */
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
  const sidecars = new Set(dirents.filter((d) => d.name.startsWith(SIDECAR_PREFIX)).map((d) => d.name));
  for (const dirent of dirents) {
    if (isInternalName(dirent.name)) continue;
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
    const sidecar = sidecars.size === 0 ? undefined : new LocalSidecar(host, false);
    const hasSidecar = sidecar !== undefined && sidecars.has(basename(sidecar.path));
    result.push({ name: dirent.name, path: joinUfsPath(path, dirent.name), host, isDirectory, sidecar: hasSidecar ? sidecar : undefined });
  }
  const sortKey = (e: Entry): string => (e.isDirectory ? `${e.name}/` : e.name);
  return result.sort((a, b) => compareKeys(sortKey(a), sortKey(b)));
}
