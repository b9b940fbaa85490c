import type { UfsEntryKind, UfsStatus } from '../ufs/under-file-system.js';

/** A file or directory as clients see it: by dora path. */
export interface FileStatus {
  /** The dora path, e.g. '/sales/q1.csv'. */
  readonly path: string;
  readonly name: string;
  readonly kind: UfsEntryKind;
  readonly size: number;
  readonly mtimeMs: number;
  readonly version: string;
  /** The mount point holding it. */
  readonly mount: string;
  /** The content's MD5 (hex) or the store's ETag, where known. */
  readonly etag?: string;
  /** Content type, where the file was written with one and the store keeps it. */
  readonly contentType?: string;
  /** User metadata; absent when not fetched (listings). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export function toFileStatus(doraPath: string, mount: string, status: UfsStatus): FileStatus {
  return {
    path: doraPath,
    name: doraPath === '/' ? '/' : doraPath.slice(doraPath.lastIndexOf('/') + 1),
    kind: status.kind,
    size: status.size,
    mtimeMs: status.mtimeMs,
    version: status.version,
    mount,
    ...(status.etag === undefined ? {} : { etag: status.etag }),
    ...(status.attributes?.contentType === undefined ? {} : { contentType: status.attributes.contentType }),
    ...(status.attributes === undefined ? {} : { metadata: status.attributes.metadata }),
  };
}

/** The dora path of an entry a store listed under a mount. */
export function doraPathOf(mount: string, storePath: string): string {
  if (storePath === '') return mount;
  return mount === '/' ? `/${storePath}` : `${mount}/${storePath}`;
}
