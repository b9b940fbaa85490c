import { DoraError } from '../../common/errors.js';
import { abortedError, throwIfAborted } from '../../common/system-errors.js';
import type { UfsListOptions, UfsStatus } from '../under-file-system.js';
import { checkUfsPath, compareKeys, joinUfsPath, listingKey, MAX_PATH_BYTES } from '../ufs-path.js';
import { fromHttpError } from './http-errors.js';
import type { IndexEntry } from './http-index.js';
import { directoryStatus } from './http-status.js';

/** What a listing needs of the server. Both throw untranslated errors. */
export interface HttpListSource {
  /** The entries of the directory at `path` (its index page), or undefined when there is none. */
  index(path: string, signal: AbortSignal | undefined): Promise<readonly IndexEntry[] | undefined>;
  /** The status of what is at `path` (a HEAD), or undefined when nothing is. */
  head(path: string, signal: AbortSignal | undefined): Promise<UfsStatus | undefined>;
}

/** Files whose HEADs are in flight together while a listing runs. */
const HEAD_BATCH = 16;

interface Entry {
  readonly path: string;
  readonly kind: IndexEntry['kind'];
}

/**
 * Lists a directory of an HTTP server from its index pages, depth-first in key order (a
 * directory sorts as `name/`). Holds one directory's entries per level of depth. Each file's
 * status comes from a HEAD (16 at a time), so a listed version is what `stat` answers; a file
 * gone by then is left out. `startAfter` skips whole directories, as the contract orders.
 */
export async function* listHttp(source: HttpListSource, path: string, options: UfsListOptions & { rootUri: string }): AsyncGenerator<UfsStatus> {
  const attempt = `Cannot list "${options.rootUri}${path}"`;
  const { signal } = options;
  const guard = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error: unknown) => {
      throw signal?.aborted === true ? abortedError(attempt, signal.reason) : fromHttpError(error, attempt);
    });
  throwIfAborted(signal, attempt);
  checkUfsPath(options.rootUri, path);
  const top = await guard(source.index(path, signal));
  if (top === undefined) {
    const found = path === '' ? undefined : await guard(source.head(path, signal));
    throw found?.kind === 'file' ? new DoraError('NOT_A_DIRECTORY', `${attempt}: it is a file`) : new DoraError('NOT_FOUND', `${attempt}: no such directory`);
  }
  yield* walk(path, top);

  async function* walk(dir: string, index: readonly IndexEntry[]): AsyncGenerator<UfsStatus> {
    const entries = sorted(dir, index);
    const { startAfter } = options;
    for (let i = startAfter === undefined ? 0 : firstAfter(entries, startAfter); i < entries.length; i += HEAD_BATCH) {
      const batch = entries.slice(i, i + HEAD_BATCH);
      const heads = await guard(Promise.all(batch.map((e) => (e.kind === 'file' ? source.head(e.path, signal) : Promise.resolve(undefined)))));
      for (const [j, entry] of batch.entries()) {
        throwIfAborted(signal, attempt);
        if (entry.kind === 'file') {
          const status = heads[j];
          if (status?.kind === 'file') yield status;
        } else if (options.recursive !== true) {
          yield directoryStatus(entry.path);
        } else {
          const below = await guard(source.index(entry.path, signal));
          if (below !== undefined) yield* walk(entry.path, below); // else removed while we listed
        }
      }
    }
  }
}

/** The entries as paths below `dir`, in listing order, without names too long for a path. */
function sorted(dir: string, index: readonly IndexEntry[]): Entry[] {
  const entries: Entry[] = [];
  for (const { name, kind } of index) {
    const path = joinUfsPath(dir, name);
    if (Buffer.byteLength(path) <= MAX_PATH_BYTES) entries.push({ path, kind });
  }
  return entries.sort((a, b) => compareKeys(listingKey(a), listingKey(b)));
}

/** The index of the first entry that sorts (with all below it) after `startAfter`. */
function firstAfter(entries: readonly Entry[], startAfter: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const entry = entries[middle];
    if (entry !== undefined && compareKeys(listingKey(entry), startAfter) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
