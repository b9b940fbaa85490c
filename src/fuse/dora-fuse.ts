import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DoraClient } from '../client/dora-client.js';
import { normalizeDoraPath } from '../mount/dora-path.js';
import { createFuse, type FuseMount, type FuseOptions } from './fuse-binding.js';
import { ReadAheadSlots } from './file-reader.js';
import { fuseOperations, type FuseSettings } from './fuse-operations.js';
import { OpenFiles } from './open-files.js';

export interface DoraFuseOptions {
  readonly client: DoraClient;
  /** Where to mount on the host; created if missing. A stale mount there (a crashed daemon) is replaced. */
  readonly mountPoint: string;
  /** The dora path shown at the mount point; default '/'. */
  readonly root?: string;
  /** The `fuse.*` configuration: caching, read-ahead, staging, access. */
  readonly settings: FuseSettings;
}

/** Read-ahead keeps this much behind a sequential reader for the kernel's out-of-order requests. */
const READ_BEHIND = 1024 * 1024;

/**
 * The dora namespace as a local file system (issue 6), over the client SDK: every read goes
 * through the cluster's cache, with its failover; a file opened for reading sees one version, and
 * sequential readers are read ahead. Writes (new files, O_TRUNC, appends and random writes to files
 * up to `fuse.maxStagedFile`) are staged on local disk and written through whole on close.
 */
export class DoraFuse {
  readonly mountPoint: string;
  readonly #fuse: FuseMount;
  readonly #stagingDir: string;

  private constructor(mountPoint: string, fuse: FuseMount, stagingDir: string) {
    this.mountPoint = mountPoint;
    this.#fuse = fuse;
    this.#stagingDir = stagingDir;
  }

  /**
   * Mounts and resolves once the kernel serves the mount. A mount left by a crashed daemon
   * ("Transport endpoint is not connected") is replaced; a live one is not ("Mountpoint in use").
   * Throws the binding's error (no /dev/fuse, a busy mount point).
   */
  static async mount(options: DoraFuseOptions): Promise<DoraFuse> {
    const { settings } = options;
    const stagingDir = join(tmpdir(), `dora-fuse-${process.pid}-${Date.now().toString(36)}`);
    const window = { ahead: settings.readAhead, behind: READ_BEHIND };
    const slots = settings.readAhead === 0 ? 0 : Math.max(1, Math.floor(settings.readAheadMemory / (settings.readAhead + READ_BEHIND)));
    const files = new OpenFiles(options.client, { stagingDir, maxStagedBytes: settings.maxStagedFile, readAhead: { ...window, slots: new ReadAheadSlots(slots) } });
    const fuse = createFuse(options.mountPoint, fuseOperations(options.client, normalizeDoraPath(options.root ?? '/'), files, settings), mountOptions(settings));
    await new Promise<void>((resolve, reject) => fuse.mount((error) => (error === null ? resolve() : reject(error))));
    return new DoraFuse(options.mountPoint, fuse, stagingDir);
  }

  /** Unmounts and removes the staging area of writes. Idempotent. */
  async unmount(): Promise<void> {
    await new Promise<void>((resolve) => this.#fuse.unmount(() => resolve()));
    await rm(this.#stagingDir, { recursive: true, force: true });
  }
}

function mountOptions(settings: FuseSettings): FuseOptions {
  // The binding passes an option only when it is truthy and bounds every request by a 15 s timer
  // unless `timeout` is false (a flush writing a large file through may take longer): hence the
  // timeouts as strings ("0" turns the kernel's caching off) and the casts.
  const seconds = String(settings.attrTimeout / 1000) as unknown as number;
  return {
    force: true, // replace a dead mount (its root answers ENOTCONN) left by a crashed daemon
    mkdir: true,
    fsname: 'dora',
    subtype: 'dora',
    timeout: false as unknown as number,
    attrTimeout: seconds,
    entryTimeout: seconds,
    maxRead: 1024 * 1024,
    autoCache: settings.kernelCache === 'auto',
    kernelCache: settings.kernelCache === 'keep',
    // Other users see the modes shown, enforced by the kernel (its types call the flag a string).
    ...(settings.allowOther ? { allowOther: true, defaultPermissions: 'default_permissions' } : {}),
  };
}
