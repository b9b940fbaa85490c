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

/** A directory changed this recently may change again within its mtime's granularity (ext4: a jiffy): not reused. */
const SETTLED_MS = 1000;
const STAT_BATCH = 64;

/**
 * The sorted entries of recently listed directories, reused while a directory's inode and mtime
 * are unchanged (and it had settled when read): a large directory listed page by page is read and
 * sorted once, not once per page. Holds at most `maxEntries` entries over all directories.
 */
export class SortedDirectories {
  readonly #dirs = new Map<string, { readonly stamp: string; readonly entries: readonly Entry[] }>();
  readonly #maxEntries: number;
  #held = 0;

  constructor(maxEntries = 1_000_000) {
    this.#maxEntries = maxEntries;
  }

  get(dir: string, stamp: string): readonly Entry[] | undefined {
    const kept = this.#dirs.get(dir);
    return kept?.stamp === stamp ? kept.entries : undefined;
  }

  set(dir: string, stamp: string, entries: readonly Entry[]): void {
    this.#drop(dir);
    if (entries.length > this.#maxEntries) return;
    while (this.#held + entries.length > this.#maxEntries) {
      const oldest = this.#dirs.keys().next();
      if (oldest.done === true) break;
      this.#drop(oldest.value);
    }
    this.#dirs.set(dir, { stamp, entries });
    this.#held += entries.length;
  }

  #drop(dir: string): void {
    const kept = this.#dirs.get(dir);
    if (kept === undefined) return;
    this.#dirs.delete(dir);
    this.#held -= kept.entries.length;
  }
}

/**
 * Walks a directory depth-first in S3 key order (each directory sorts as `name/`), holding one
 * directory's names per level of depth and statting entries only as they are yielded.
 */
export async function* listLocal(
  paths: LocalPath,
  path: string,
  options: UfsListOptions & { attempt: string; rootUri: string; sorted: SortedDirectories },
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
  options: UfsListOptions & { attempt: string; sorted: SortedDirectories },
): AsyncGenerator<UfsStatus> {
  const { attempt, startAfter } = options;
  const sorted = await entries(paths, dir, path, options);
  // Statted a batch at a time, side by side: one at a time, a listing waits on the disk once per entry.
  for (let i = startAfter === undefined ? 0 : firstAfter(sorted, startAfter); i < sorted.length; i += STAT_BATCH) {
    const batch = sorted.slice(i, i + STAT_BATCH);
    const statuses = await Promise.all(batch.map((entry) => (entry.isDirectory && options.recursive === true ? Promise.resolve(undefined) : statusOf(entry, attempt))));
    for (const [j, entry] of batch.entries()) {
      throwIfAborted(options.signal, attempt);
      if (entry.isDirectory && options.recursive === true) {
        yield* walk(paths, entry.host, entry.path, options); // it has keys after `startAfter`: firstAfter said so
        continue;
      }
      const status = statuses[j];
      if (status !== undefined) yield status;
    }
  }
}

/** An entry's status (and ETag from its sidecar), or undefined when it went away or is no longer a file. */
async function statusOf(entry: Entry, attempt: string): Promise<UfsStatus | undefined> {
  const status = await stat(entry.host, { bigint: true }).catch(() => undefined);
  if (status === undefined) return undefined; // removed while we listed
  if (!entry.isDirectory && !status.isFile()) return undefined;
  const listed = localStatus(entry.path, status, attempt);
  const etag = entry.isDirectory ? undefined : (await entry.sidecar?.read(listed.version))?.etag;
  return etag === undefined ? listed : { ...listed, etag };
}

/** The key an entry's listing resumes after: a directory sorts after everything below it. */
const resumeKey = (entry: Entry): string => (entry.isDirectory ? entry.path + DIRECTORY_END : entry.path);

/** The index of the first entry that sorts (with all below it) after `startAfter`. */
function firstAfter(sorted: readonly Entry[], startAfter: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const entry = sorted[middle];
    if (entry !== undefined && compareKeys(resumeKey(entry), startAfter) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** One directory's entries in key order (reused while it is unchanged), without dora's own files, special files and links leaving the root. */
async function entries(paths: LocalPath, dir: string, path: string, options: { attempt: string; sorted: SortedDirectories }): Promise<readonly Entry[]> {
  const before = await stat(dir, { bigint: true }).catch(() => undefined);
  if (before === undefined) return []; // removed while we listed
  const stamp = `${before.ino}:${before.mtimeNs}`;
  const kept = options.sorted.get(dir, stamp);
  if (kept !== undefined) return kept;
  const read = await readEntries(paths, dir, path, options.attempt);
  if (Date.now() - Number(before.mtimeMs) > SETTLED_MS) options.sorted.set(dir, stamp, read);
  return read;
}

async function readEntries(paths: LocalPath, dir: string, path: string, attempt: string): Promise<Entry[]> {
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
