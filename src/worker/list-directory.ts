import { DoraError } from '../common/errors.js';
import { relativeTo } from '../mount/dora-path.js';
import type { Resolved } from '../mount/mount-table.js';
import type { UfsStatus } from '../ufs/under-file-system.js';
import { compareKeys, listingKey } from '../ufs/ufs-path.js';
import { doraPathOf, toFileStatus, type FileStatus } from './file-status.js';
import type { MetadataCache } from './metadata-cache.js';

export interface ListPage {
  readonly entries: FileStatus[];
  /** Pass as `startAfter` for the next page; absent on the last page. */
  readonly next?: string;
}

export interface ListDirectoryOptions {
  recursive?: boolean | undefined;
  /** A dora path (or a `next` token): entries sorting at or before it are skipped. */
  startAfter?: string | undefined;
  limit?: number | undefined;
  signal?: AbortSignal | undefined;
  metadata: MetadataCache;
  syncMs: number;
  /** Mount points below the directory: they show as directories even where the store has none. */
  mountsBelow: readonly string[];
}

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;
/** One-level listings up to this many entries are cached whole. */
const CACHEABLE = 1000;

/**
 * One page of a directory listing in byte order. One-level listings that fit in a page are
 * cached; listed files warm the status cache too.
 */
export async function listDirectory(resolved: Resolved, doraPath: string, options: ListDirectoryOptions): Promise<ListPage> {
  const limit = options.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot list "${doraPath}": limit must be between 1 and ${MAX_LIMIT}`);
  }
  const mountPath = resolved.mount.path;
  const startAfter = options.startAfter === undefined ? undefined : storeStartAfter(options.startAfter, mountPath, doraPath);
  const recursive = options.recursive === true;
  let entries: UfsStatus[] = [];
  let more = false;
  const cached = !recursive && startAfter === undefined ? options.metadata.listing(doraPath, options.syncMs) : undefined;
  if (cached !== undefined) {
    entries = cached.slice(0, limit);
    more = cached.length > limit;
  } else {
    for await (const entry of resolved.ufs.list(resolved.path, { recursive, startAfter, signal: options.signal })) {
      if (entries.length === limit) {
        more = true;
        break;
      }
      entries.push(entry);
    }
    if (!recursive && startAfter === undefined && !more && entries.length <= CACHEABLE) options.metadata.setListing(doraPath, entries);
  }
  for (const e of entries) if (e.kind === 'file') options.metadata.setStatus(doraPathOf(mountPath, e.path), { status: e });
  if (!recursive) entries = withMountPoints(entries, resolved, doraPath, options.mountsBelow, { startAfter, more });
  const statuses = entries.map((e) => toFileStatus(doraPathOf(mountPath, e.path), mountPath, e));
  const last = entries.at(-1);
  const next = more && last !== undefined ? doraPathOf(mountPath, recursive ? last.path : listingKey(last)) : undefined;
  return next === undefined ? { entries: statuses } : { entries: statuses, next };
}

/** Converts a dora `startAfter` into one relative to the store, refusing one outside the directory. */
function storeStartAfter(startAfter: string, mountPath: string, doraPath: string): string {
  const prefix = doraPath === '/' ? '/' : `${doraPath}/`;
  if (!startAfter.startsWith(prefix)) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot list "${doraPath}": startAfter ${JSON.stringify(startAfter)} is not inside it`);
  }
  return relativeTo(startAfter, mountPath); // a directory's token keeps its DIRECTORY_END suffix
}

/** Merges mount points that sit directly in this directory, within this page's key range. */
function withMountPoints(
  entries: UfsStatus[],
  resolved: Resolved,
  doraPath: string,
  mountsBelow: readonly string[],
  page: { startAfter: string | undefined; more: boolean },
): UfsStatus[] {
  const depth = doraPath === '/' ? 1 : doraPath.split('/').length;
  const direct = mountsBelow.filter((m) => m.split('/').length === depth + 1);
  if (direct.length === 0) return entries;
  const last = entries.at(-1);
  const known = new Set(entries.map((e) => e.path));
  const merged = [...entries];
  for (const mount of direct) {
    const path = relativeTo(mount, resolved.mount.path);
    const entry: UfsStatus = { path, kind: 'directory', size: 0, mtimeMs: 0, version: '' };
    const key = listingKey(entry);
    if (known.has(path)) continue;
    if (page.startAfter !== undefined && compareKeys(key, page.startAfter) <= 0) continue;
    if (page.more && last !== undefined && compareKeys(key, listingKey(last)) > 0) continue; // on a later page
    merged.push(entry);
  }
  return merged.sort((a, b) => compareKeys(listingKey(a), listingKey(b)));
}
