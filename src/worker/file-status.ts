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
  };
}

/** The dora path of an entry a store listed under a mount. */
export function doraPathOf(mount: string, storePath: string): string {
  if (storePath === '') return mount;
  return mount === '/' ? `/${storePath}` : `${mount}/${storePath}`;
}
