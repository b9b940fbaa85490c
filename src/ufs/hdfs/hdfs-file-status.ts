import { WebHdfsProtocolError } from './hdfs-errors.js';
import type { UfsStatus } from '../under-file-system.js';

/** WebHDFS's `FileStatus` object (the fields dora reads; a server sends more). */
export interface HdfsFileStatus {
  /** The name within the listed directory; '' in GETFILESTATUS answers. */
  readonly pathSuffix: string;
  readonly type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  readonly length: number;
  readonly modificationTime: number;
  /** The inode's id: new for every file created, kept by renames. Absent on servers before Hadoop 2.4. */
  readonly fileId?: number | undefined;
}

/** Reads one `FileStatus` object, refusing answers that lack what dora needs. */
export function parseFileStatus(value: unknown): HdfsFileStatus {
  const v = (value ?? {}) as Record<string, unknown>;
  const { type, pathSuffix, length, modificationTime, fileId } = v;
  if ((type !== 'FILE' && type !== 'DIRECTORY' && type !== 'SYMLINK') || typeof pathSuffix !== 'string' || typeof length !== 'number' || typeof modificationTime !== 'number') {
    throw new WebHdfsProtocolError('INTERNAL', 'the server answered a FileStatus without type, pathSuffix, length or modificationTime');
  }
  return { type, pathSuffix, length, modificationTime, ...(typeof fileId === 'number' ? { fileId } : {}) };
}

/**
 * A file's version: modification time, length and inode id, so a file replaced by a rename
 * (a new inode) always has a new version, even within one millisecond. HDFS keeps no content
 * hash to use instead (GETFILECHECKSUM is an MD5 of per-block CRC MD5s, not the content's MD5).
 */
export function hdfsVersion(status: HdfsFileStatus): string {
  const id = status.fileId === undefined ? '' : `-${status.fileId.toString(36)}`;
  return `${status.modificationTime.toString(36)}-${status.length.toString(36)}${id}`;
}

/** The UfsStatus of a file or directory (a symbolic link is neither: undefined). */
export function toUfsStatus(path: string, status: HdfsFileStatus): UfsStatus | undefined {
  if (status.type === 'DIRECTORY') return { path, kind: 'directory', size: 0, mtimeMs: status.modificationTime, version: '' };
  if (status.type !== 'FILE') return undefined;
  return { path, kind: 'file', size: status.length, mtimeMs: status.modificationTime, version: hdfsVersion(status) };
}

/** Names of files being written (renamed into place once complete): never listed, refused as user paths. */
export const TEMP_PREFIX = '.dora-tmp-';

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

/** The directory an absolute HDFS path is in ('/' for a top-level name). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** `name` in the HDFS directory `dir`. */
export function childOf(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}
