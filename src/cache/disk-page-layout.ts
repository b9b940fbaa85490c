import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

/**
 * Where a disk page store keeps each page. One directory per (file, version), named by the
 * SHA-256 of both and fanned out under its first two hex digits, holding one file per page and
 * a `meta` file that names the file and version (so the index can be rebuilt from a listing):
 *
 *   <root>/ab/ab12…ef/meta        {"fileId":"s3://b/k","version":"etag"}
 *   <root>/ab/ab12…ef/12.page     page 12 (see disk-page-format.ts)
 *   <root>/ab/ab12…ef/12.page.<random>.tmp   a write in progress, renamed into place when whole
 */
export class DiskPageLayout {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The directory name of a (file, version): 64 hex digits. */
  groupHash(fileId: string, version: string): string {
    // JSON keeps the two strings apart whatever they contain.
    return createHash('sha256').update(JSON.stringify([fileId, version])).digest('hex');
  }

  groupDir(hash: string): string {
    return join(this.root, hash.slice(0, 2), hash);
  }

  pagePath(groupDir: string, index: number): string {
    return join(groupDir, `${index}.page`);
  }

  metaPath(groupDir: string): string {
    return join(groupDir, META_NAME);
  }
}

export const META_NAME = 'meta';

/** What a meta file holds. */
export interface GroupMeta {
  readonly fileId: string;
  readonly version: string;
}

export function encodeGroupMeta(meta: GroupMeta): string {
  return `${JSON.stringify({ fileId: meta.fileId, version: meta.version })}\n`;
}

/** The meta file's contents, or undefined when it is not a valid meta file. */
export function decodeGroupMeta(text: string): GroupMeta | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { fileId, version } = parsed as Record<string, unknown>;
    return typeof fileId === 'string' && typeof version === 'string' ? { fileId, version } : undefined;
  } catch {
    return undefined;
  }
}

/** A fresh temporary name beside `finalPath`, in the same directory so the rename is atomic. */
export function tempPathFor(finalPath: string): string {
  return `${finalPath}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
}

export const TEMP_SUFFIX = '.tmp';

/** The page index a directory entry names (`12.page` → 12), or undefined for any other name. */
export function parsePageName(name: string): number | undefined {
  const match = /^(0|[1-9][0-9]{0,15})\.page$/.exec(name);
  if (match === null) return undefined;
  const index = Number(match[1]);
  return Number.isSafeInteger(index) ? index : undefined;
}

export const PREFIX_DIR = /^[0-9a-f]{2}$/;
export const GROUP_DIR = /^[0-9a-f]{64}$/;
