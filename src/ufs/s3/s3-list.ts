import { DoraError } from '../../common/errors.js';
import { abortedError, throwIfAborted } from '../../common/system-errors.js';
import type { UfsListOptions, UfsStatus } from '../under-file-system.js';
import { checkUfsPath, compareKeys, listingKey } from '../ufs-path.js';
import type { S3Api } from './s3-api.js';
import { fromS3Error } from './s3-errors.js';
import { directoryPrefix, type S3Location } from './s3-location.js';
import { fileStatus } from './s3-ufs.js';

const PAGE_SIZE = 1000;

interface ListContext extends UfsListOptions {
  rootUri: string;
  /** Whether a file is at `path` (to tell "not a directory" from "not found"). */
  isFile(path: string, signal: AbortSignal | undefined): Promise<boolean>;
}

/**
 * Lists a prefix page by page with ListObjectsV2: one level uses the '/' delimiter and yields
 * common prefixes as directories. Directory markers (`dir/`) and keys that are not canonical
 * paths (`a//b`) are not entries. An empty listing of a path that is no directory is an error.
 */
export async function* listS3(api: S3Api, at: S3Location, path: string, context: ListContext): AsyncGenerator<UfsStatus> {
  const attempt = `Cannot list "${context.rootUri}${path}"`;
  const { signal } = context;
  checkUfsPath(context.rootUri, path);
  const prefix = directoryPrefix(at, path);
  let token: string | undefined;
  let found = false;
  do {
    throwIfAborted(signal, attempt);
    const page = await api
      .list(at.bucket, {
        prefix,
        delimiter: context.recursive === true ? undefined : '/',
        startAfter: token === undefined && context.startAfter !== undefined ? at.prefix + context.startAfter : undefined,
        token,
        maxKeys: PAGE_SIZE,
      }, signal)
      .catch((error: unknown) => {
        throw signal?.aborted === true ? abortedError(attempt, signal.reason) : fromS3Error(error, attempt);
      });
    const entries: UfsStatus[] = [];
    for (const object of page.objects) {
      found = true;
      const rel = object.key.slice(at.prefix.length);
      if (object.key.endsWith('/') || !isCanonical(rel)) continue; // markers
      entries.push(fileStatus(rel, object));
    }
    for (const common of page.prefixes) {
      found = true;
      const rel = common.slice(at.prefix.length, -1);
      if (isCanonical(rel)) entries.push({ path: rel, kind: 'directory', size: 0, mtimeMs: 0, version: '' });
    }
    // S3 sends objects and common prefixes as two sorted lists; interleave them.
    entries.sort((a, b) => compareKeys(listingKey(a), listingKey(b)));
    yield* entries;
    token = page.nextToken;
  } while (token !== undefined);

  if (!found && path !== '' && context.startAfter === undefined) {
    const isFile = await context.isFile(path, signal).catch((error: unknown) => {
      throw fromS3Error(error, attempt);
    });
    throw isFile
      ? new DoraError('NOT_A_DIRECTORY', `${attempt}: it is a file`)
      : new DoraError('NOT_FOUND', `${attempt}: no such directory`);
  }
}

function isCanonical(path: string): boolean {
  return path !== '' && !path.split('/').some((s) => s === '' || s === '.' || s === '..');
}
