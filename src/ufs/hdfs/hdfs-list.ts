import { DoraError } from '../../common/errors.js';
import { abortedError, throwIfAborted } from '../../common/system-errors.js';
import type { UfsStatus } from '../under-file-system.js';
import { checkUfsPath, compareKeys, joinUfsPath, listingKey } from '../ufs-path.js';
import { decodeAttributes } from './hdfs-attributes.js';
import type { HdfsClient, HdfsListPage } from './hdfs-client.js';
import { fromHdfsError } from './hdfs-errors.js';
import { isTempName, toUfsStatus } from './hdfs-file-status.js';
import { HdfsReorder } from './hdfs-order.js';

/** What a listing needs of its store, and the call it serves. */
export interface HdfsListContext {
  readonly client: HdfsClient;
  readonly rootUri: string;
  /** The HDFS path of a store path. */
  hdfsPath(path: string): string;
  /** Whether to read each file's dora attributes for its ETag (one GETXATTRS per file). */
  readonly etags: boolean;
  readonly recursive: boolean;
  readonly startAfter: string | undefined;
  readonly attempt: string;
  /** The signal of the call now pulling entries: a listing resumed by a later call gets that call's. */
  signal: AbortSignal | undefined;
}

/** Files whose attributes are read side by side. */
const ETAG_CONCURRENCY = 16;

/**
 * Lists a directory page by page (LISTSTATUS_BATCH), depth-first when recursive, in dora's
 * order (see `HdfsReorder`); `.dora-tmp-*` files and symbolic links are left out. A resumed
 * listing (`startAfter`) reads each directory on its path from the start, since HDFS's own
 * order cannot skip to a point of dora's. Throws NOT_FOUND or NOT_A_DIRECTORY for `path` itself;
 * a directory below it that goes away while listed lists as empty.
 */
export async function* listHdfs(context: HdfsListContext, path: string): AsyncGenerator<UfsStatus> {
  const first = await call(context, () => {
    checkUfsPath(context.rootUri, path);
    return context.client.listPage(context.hdfsPath(path), undefined, context.signal);
  });
  const [only] = first.statuses;
  if (first.statuses.length === 1 && only?.pathSuffix === '' && only.type !== 'DIRECTORY') {
    throw new DoraError('NOT_A_DIRECTORY', `${context.attempt}: it is a file`);
  }
  yield* walk(context, path, first);
}

async function* walk(context: HdfsListContext, dir: string, first: HdfsListPage): AsyncGenerator<UfsStatus> {
  const reorder = new HdfsReorder<UfsStatus>();
  for (let page = first; ; ) {
    for (const found of page.statuses) {
      if (found.pathSuffix === '') continue; // a directory that became a file while listed
      const status = isTempName(found.pathSuffix) ? undefined : toUfsStatus(joinUfsPath(dir, found.pathSuffix), found);
      reorder.add(found.pathSuffix, status === undefined ? undefined : { key: listingKey(status), entry: status });
    }
    const cursor = page.statuses.at(-1)?.pathSuffix;
    const ended = !page.more || cursor === undefined || cursor === '';
    const ready = reorder.release(ended).filter((entry) => context.startAfter === undefined || compareKeys(listingKey(entry), context.startAfter) > 0);
    for (const entry of await withEtags(context, ready)) {
      throwIfAborted(context.signal, context.attempt);
      if (entry.kind === 'directory' && context.recursive) yield* walk(context, entry.path, await pageOrEmpty(context, entry.path, undefined));
      else yield entry;
    }
    if (ended) return;
    page = await pageOrEmpty(context, dir, cursor);
  }
}

/** A page of a directory below the listed one; none when it went away. */
async function pageOrEmpty(context: HdfsListContext, dir: string, startAfter: string | undefined): Promise<HdfsListPage> {
  try {
    return await call(context, () => context.client.listPage(context.hdfsPath(dir), startAfter, context.signal));
  } catch (error) {
    if (error instanceof DoraError && error.code === 'NOT_FOUND') return { statuses: [], more: false };
    throw error;
  }
}

/** The entries with the ETag (MD5) dora recorded for each file, where it did. */
async function withEtags(context: HdfsListContext, entries: UfsStatus[]): Promise<UfsStatus[]> {
  if (!context.etags) return entries;
  const out = [...entries];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < out.length) {
      const i = next++;
      const entry = out[i] as UfsStatus;
      if (entry.kind !== 'file') continue;
      const md5 = await call(context, async () => decodeAttributes(await context.client.getXattrs(context.hdfsPath(entry.path), context.signal), entry.version)?.md5).catch((error: unknown) => {
        // Gone since listed, or unreadable to this user: listed without an ETag.
        if (error instanceof DoraError && (error.code === 'NOT_FOUND' || error.code === 'PERMISSION_DENIED')) return undefined;
        throw error;
      });
      if (md5 !== undefined) out[i] = { ...entry, etag: md5 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(ETAG_CONCURRENCY, out.length) }, worker));
  return out;
}

async function call<T>(context: HdfsListContext, body: () => Promise<T>): Promise<T> {
  throwIfAborted(context.signal, context.attempt);
  try {
    return await body();
  } catch (error) {
    if (context.signal?.aborted === true) throw abortedError(context.attempt, context.signal.reason);
    throw fromHdfsError(error, context.attempt);
  }
}
