import { DoraError } from '../../common/errors.js';
import { abortedError, throwIfAborted } from '../../common/system-errors.js';
import type { UfsListOptions, UfsStatus } from '../under-file-system.js';
import { checkUfsPath, compareKeys, listingKey } from '../ufs-path.js';
import type { ObjectClient } from './object-client.js';

const PAGE_SIZE = 1000;

/** What a listing needs of a store: pages of keys, and its errors' meaning. */
export interface ListSource<O extends { readonly key: string }> {
  list(prefix: string, page: Parameters<ObjectClient['list']>[1], signal: AbortSignal | undefined): Promise<{ readonly objects: readonly O[]; readonly prefixes: readonly string[]; readonly nextToken: string | undefined }>;
  translate: ObjectClient['translate'];
}

interface ListContext<O> extends UfsListOptions {
  rootUri: string;
  toStatus(path: string, object: O): UfsStatus;
  /** Whether a file is at `path` (to tell "not a directory" from "not found"). */
  isFile(path: string, signal: AbortSignal | undefined): Promise<boolean>;
}

/**
 * Lists a directory of an object store (S3 included) page by page: one level uses the '/' delimiter and
 * yields common prefixes as directories. Directory markers (`dir/`) and keys that are not
 * canonical paths (`a//b`) are not entries. An empty listing of a path that is no directory is
 * an error.
 */
export async function* listObjects<O extends { readonly key: string }>(client: ListSource<O>, rootPrefix: string, path: string, context: ListContext<O>): AsyncGenerator<UfsStatus> {
  const attempt = `Cannot list "${context.rootUri}${path}"`;
  const { signal } = context;
  checkUfsPath(context.rootUri, path);
  const prefix = path === '' ? rootPrefix : `${rootPrefix}${path}/`;
  let token: string | undefined;
  let found = false;
  do {
    throwIfAborted(signal, attempt);
    const page = await client
      .list(prefix, {
        delimiter: context.recursive === true ? undefined : '/',
        startAfter: token === undefined && context.startAfter !== undefined ? rootPrefix + context.startAfter : undefined,
        token,
        maxKeys: PAGE_SIZE,
      }, signal)
      .catch((error: unknown) => {
        throw signal?.aborted === true ? abortedError(attempt, signal.reason) : client.translate(error, attempt);
      });
    const entries: UfsStatus[] = [];
    for (const object of page.objects) {
      found = true;
      const rel = object.key.slice(rootPrefix.length);
      if (object.key.endsWith('/') || !isCanonical(rel)) continue; // markers
      entries.push(context.toStatus(rel, object));
    }
    for (const common of page.prefixes) {
      found = true;
      const rel = common.slice(rootPrefix.length, -1);
      if (isCanonical(rel)) entries.push({ path: rel, kind: 'directory', size: 0, mtimeMs: 0, version: '' });
    }
    // Objects and common prefixes come as two sorted lists; interleave them.
    entries.sort((a, b) => compareKeys(listingKey(a), listingKey(b)));
    yield* entries;
    token = page.nextToken;
  } while (token !== undefined);

  if (!found && path !== '' && context.startAfter === undefined) {
    const isFile = await context.isFile(path, signal).catch((error: unknown) => {
      throw client.translate(error, attempt);
    });
    throw isFile ? new DoraError('NOT_A_DIRECTORY', `${attempt}: it is a file`) : new DoraError('NOT_FOUND', `${attempt}: no such directory`);
  }
}

function isCanonical(path: string): boolean {
  return path !== '' && !path.split('/').some((s) => s === '' || s === '.' || s === '..');
}
