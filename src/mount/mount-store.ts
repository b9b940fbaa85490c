import type { MountInfo } from './mount-info.js';

/**
 * Where the mount table is kept: a local file now, etcd in a cluster. The table is small (one
 * entry per mount), so it is loaded and saved whole.
 */
export interface MountStore {
  /** The saved mounts; none when nothing was saved yet. Throws UNAVAILABLE, INVALID_ARGUMENT (corrupt). */
  load(options?: { signal?: AbortSignal | undefined }): Promise<MountInfo[]>;
  /** Replaces the saved mounts atomically. Idempotent. */
  save(mounts: readonly MountInfo[], options?: { signal?: AbortSignal | undefined }): Promise<void>;
}
