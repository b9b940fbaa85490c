import { realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { DoraError } from '../../common/errors.js';

/**
 * Maps store-relative paths to host paths under a root directory and refuses any that leave
 * it. Canonical paths cannot climb with '..', so what remains is symlinks: the real path of
 * the target (or of its nearest existing ancestor) must lie inside the real root.
 */
export class LocalPath {
  readonly root: string;
  #realRoot: string | undefined;

  constructor(root: string) {
    this.root = root;
  }

  /** The host path for a canonical store path, without checking symlinks. */
  hostPath(path: string): string {
    return path === '' ? this.root : join(this.root, path);
  }

  /**
   * The host path for `path` after checking that it, or its nearest existing ancestor, really
   * lies inside the root. Throws PERMISSION_DENIED for an escape, UNAVAILABLE if the root is gone.
   */
  async resolve(path: string, attempt: string): Promise<string> {
    const host = this.hostPath(path);
    const realRoot = await this.#rootReal(attempt);
    let probe = host;
    for (;;) {
      const real = await realpath(probe).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
        throw error;
      });
      if (real !== undefined) {
        if (!isInside(realRoot, real)) {
          throw new DoraError('PERMISSION_DENIED', `${attempt}: "${path}" leads outside the mount root through a symbolic link`);
        }
        return host;
      }
      if (probe === this.root) return host;
      probe = dirname(probe);
    }
  }

  /** Whether an existing host path really lies inside the root (false for dangling links). */
  async contains(host: string): Promise<boolean> {
    const real = await realpath(host).catch(() => undefined);
    return real !== undefined && this.#realRoot !== undefined && isInside(this.#realRoot, real);
  }

  async #rootReal(attempt: string): Promise<string> {
    if (this.#realRoot === undefined) {
      try {
        this.#realRoot = await realpath(this.root);
      } catch (error) {
        // A missing root is a store that is not there (an NFS mount gone), not a missing file.
        throw new DoraError('UNAVAILABLE', `${attempt}: the root directory "${this.root}" is not accessible`, { cause: error });
      }
    }
    return this.#realRoot;
  }
}

function isInside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}
