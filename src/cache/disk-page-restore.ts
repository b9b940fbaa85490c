import { closeSync, openSync, readFileSync, readSync, readdirSync, rmdirSync, statSync, unlinkSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { throwIfAborted } from '../common/system-errors.js';
import { PAGE_HEADER_BYTES } from './disk-page-format.js';
import { GROUP_DIR, META_NAME, PREFIX_DIR, TEMP_SUFFIX, decodeGroupMeta, parsePageName, type DiskPageLayout, type GroupMeta } from './disk-page-layout.js';
import type { PageKey } from './page-store.js';

/** A page found on disk: its key, its group's hash, data bytes (file size less the header) and last write time. */
export interface RestoredPage {
  readonly key: PageKey;
  readonly hash: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

export interface RestoreResult {
  readonly pages: RestoredPage[];
  /** Page files shorter than a header, deleted. */
  readonly corruptions: number;
  /** Leftover temporary files (writes cut short by a crash), deleted. */
  readonly removedTemps: number;
  /** Directories that could not be listed, and files that could not be deleted: left as they are. */
  readonly failures: number;
}

/** The longest the restore holds the event loop before letting other work run. */
const SLICE_MS = 10;

/**
 * Rebuilds a disk page store's index from its directory tree without reading page bytes: one
 * listing per directory, one small `meta` read per (file, version), one stat per page. Deletes
 * leftover temporary files, page files too short to hold a header, and pages whose group has no
 * valid meta (they cannot be identified), then empty group directories. Checksums are verified
 * later, when a page is read. Throws only when the root cannot be listed (or on abort).
 *
 * Synchronous calls in slices of at most SLICE_MS: about four times faster than the promise API
 * here (a stat costs 3 µs, a promise-based one 12 µs), and the event loop still turns every 10 ms.
 */
export async function restoreDiskPages(layout: DiskPageLayout, signal?: AbortSignal): Promise<RestoreResult> {
  const attempt = `Cannot restore the page index from "${layout.root}"`;
  const pages: RestoredPage[] = [];
  const counts = { corruptions: 0, removedTemps: 0, failures: 0 };
  let sliceStart = performance.now();
  const pause = async (): Promise<void> => {
    if (performance.now() - sliceStart < SLICE_MS) return;
    await nextTurn();
    throwIfAborted(signal, attempt);
    sliceStart = performance.now();
  };
  const remove = (path: string): boolean => {
    try {
      unlinkSync(path);
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') counts.failures++;
      return false;
    }
  };
  const list = (dir: string): Dirent[] => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      counts.failures++;
      return [];
    }
  };
  const statQuietly = (path: string): Stats | undefined => {
    try {
      return statSync(path, { throwIfNoEntry: false });
    } catch {
      counts.failures++;
      return undefined;
    }
  };
  const removeTemps = (dir: string, entries: Dirent[]): void => {
    for (const e of entries) if (e.name.endsWith(TEMP_SUFFIX) && !e.isDirectory() && remove(join(dir, e.name))) counts.removedTemps++;
  };

  const restoreGroup = async (hash: string, dir: string): Promise<void> => {
    const entries = list(dir);
    removeTemps(dir, entries);
    const meta = entries.some((e) => e.name === META_NAME) ? readMeta(layout, join(dir, META_NAME), hash) : undefined;
    let kept = 0;
    for (const entry of entries) {
      const index = parsePageName(entry.name);
      if (index === undefined || entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (meta === undefined) {
        remove(path);
        continue;
      }
      await pause();
      const stats = statQuietly(path);
      if (stats === undefined || !stats.isFile()) continue;
      if (stats.size < PAGE_HEADER_BYTES) {
        if (remove(path)) counts.corruptions++;
        continue;
      }
      kept++;
      pages.push({ key: { fileId: meta.fileId, version: meta.version, index }, hash, bytes: stats.size - PAGE_HEADER_BYTES, mtimeMs: stats.mtimeMs });
    }
    if (kept > 0) return;
    remove(join(dir, META_NAME));
    try {
      rmdirSync(dir);
    } catch {
      // Not empty: files dora did not write are left alone.
    }
  };

  throwIfAborted(signal, attempt);
  const top = readdirSync(layout.root, { withFileTypes: true });
  removeTemps(layout.root, top);
  for (const prefix of top) {
    if (!prefix.isDirectory() || !PREFIX_DIR.test(prefix.name)) continue;
    const prefixDir = join(layout.root, prefix.name);
    const entries = list(prefixDir);
    removeTemps(prefixDir, entries);
    for (const group of entries) {
      if (!group.isDirectory() || !GROUP_DIR.test(group.name) || !group.name.startsWith(prefix.name)) continue;
      await restoreGroup(group.name, join(prefixDir, group.name));
      await pause();
    }
  }
  return { pages, ...counts };
}

function readMeta(layout: DiskPageLayout, path: string, hash: string): GroupMeta | undefined {
  let text: string;
  try {
    text = readSmallFile(path);
  } catch {
    return undefined;
  }
  const meta = decodeGroupMeta(text);
  // A meta file in the wrong directory would serve another file's pages: treat it as missing.
  return meta !== undefined && layout.groupHash(meta.fileId, meta.version) === hash ? meta : undefined;
}

const scratch = Buffer.allocUnsafe(64 * 1024);

/** A file's text in three system calls (readFileSync takes five: it stats first and reads until an empty read). */
function readSmallFile(path: string): string {
  const fd = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(fd, scratch, 0, scratch.length, 0);
  } finally {
    closeSync(fd);
  }
  return length < scratch.length ? scratch.toString('utf8', 0, length) : readFileSync(path, 'utf8');
}
