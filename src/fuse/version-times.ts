import type { FileStatus } from '../client/client-types.js';

/**
 * The modification time shown for each file, made to change whenever its version does. The kernel
 * keeps a file's cached pages across opens while its size and mtime stay the same (auto_cache), and
 * some stores keep whole seconds (S3): a rewrite of the same size within one second would leave the
 * old bytes in the kernel's cache. Such a version is shown 1 ms later than the one before it. Holds
 * the last `limit` files seen.
 */
export class VersionTimes {
  readonly #shown = new Map<string, { readonly version: string; readonly mtimeMs: number; readonly shownMs: number }>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The mtime (ms) to show for `status`. */
  mtimeOf(status: FileStatus): number {
    if (status.kind !== 'file' || status.version === '') return status.mtimeMs;
    const before = this.#shown.get(status.path);
    if (before?.version === status.version && before.mtimeMs === status.mtimeMs) return before.shownMs;
    const shownMs = before !== undefined && before.version !== status.version && status.mtimeMs <= before.shownMs ? before.shownMs + 1 : status.mtimeMs;
    this.#shown.delete(status.path);
    this.#shown.set(status.path, { version: status.version, mtimeMs: status.mtimeMs, shownMs });
    if (this.#shown.size > this.#limit) {
      const oldest = this.#shown.keys().next();
      if (oldest.done !== true) this.#shown.delete(oldest.value);
    }
    return shownMs;
  }
}
