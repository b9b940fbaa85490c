import type { BigIntStats } from 'node:fs';
import { DoraError } from '../../common/errors.js';
import type { UfsStatus } from '../under-file-system.js';

/**
 * The status of a host file. Its version combines mtime (ns), size and inode, so an overwrite
 * (a rename of a new file into place) always changes it, even within one clock tick.
 */
export function localStatus(path: string, stats: BigIntStats, attempt: string): UfsStatus {
  const mtimeMs = Number(stats.mtimeNs / 1_000_000n);
  if (stats.isDirectory()) return { path, kind: 'directory', size: 0, mtimeMs, version: '' };
  if (!stats.isFile()) throw new DoraError('NOT_FOUND', `${attempt}: not a regular file or directory`);
  const version = `${stats.mtimeNs.toString(36)}-${stats.size.toString(36)}-${stats.ino.toString(36)}`;
  return { path, kind: 'file', size: Number(stats.size), mtimeMs, version };
}
