import { constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import type { DoraClient } from '../client/dora-client.js';
import type { FileStatus } from '../client/client-types.js';
import { DoraError } from '../common/errors.js';
import { readAll } from '../common/streams.js';
import { normalizeDoraPath } from '../mount/dora-path.js';
import { createFuse, forceUnmount, type FuseMount, type FuseOperations, type FuseStat } from './fuse-binding.js';
import { fuseErrno } from './fuse-errno.js';

export interface DoraFuseOptions {
  readonly client: DoraClient;
  /** Where to mount on the host; created if missing. A stale mount there (a crashed daemon) is replaced. */
  readonly mountPoint: string;
  /** The dora path shown at the mount point; default '/'. */
  readonly root?: string;
  /** How long the kernel trusts attributes and names, in seconds (read-mostly data: default 1). */
  readonly cacheSeconds?: number;
}

interface OpenFile {
  readonly path: string;
  /** Reads of this open file see one version: a file changed meanwhile fails with EAGAIN, never a mix. */
  readonly version: string;
}

const O_ACCMODE = 3;

/**
 * The dora namespace as a local file system (issue 6), over the client SDK: every read goes
 * through the cluster's cache, with its failover. This first slice is read-only: getattr, readdir,
 * open, read, release and statfs; a write is EROFS.
 */
export class DoraFuse {
  readonly mountPoint: string;
  readonly #fuse: FuseMount;

  private constructor(mountPoint: string, fuse: FuseMount) {
    this.mountPoint = mountPoint;
    this.#fuse = fuse;
  }

  /** Mounts and resolves once the kernel serves the mount. Throws the binding's error (no /dev/fuse, a busy mount point). */
  static async mount(options: DoraFuseOptions): Promise<DoraFuse> {
    const cacheSeconds = options.cacheSeconds ?? 1;
    const fuse = createFuse(options.mountPoint, operations(options.client, normalizeDoraPath(options.root ?? '/')), {
      force: true,
      mkdir: true,
      fsname: 'dora',
      attrTimeout: cacheSeconds,
      entryTimeout: cacheSeconds,
      maxRead: 1024 * 1024,
    });
    await forceUnmount(options.mountPoint); // recovers a mount left by a crashed daemon ("Transport endpoint is not connected")
    await new Promise<void>((resolve, reject) => fuse.mount((error) => (error === null ? resolve() : reject(error))));
    return new DoraFuse(options.mountPoint, fuse);
  }

  /** Unmounts. Idempotent. */
  unmount(): Promise<void> {
    return new Promise((resolve) => this.#fuse.unmount(() => resolve()));
  }
}

function operations(client: DoraClient, root: string): FuseOperations {
  const open = new Map<number, OpenFile>();
  let nextFd = 1;
  const doraPath = (path: string): string => (root === '/' ? normalizeDoraPath(path) : normalizeDoraPath(`${root}${path === '/' ? '' : path}`));
  return {
    getattr: (path, cb) => {
      client.stat(doraPath(path)).then(
        (status) => cb(0, toStat(status)),
        (error: unknown) => cb(fuseErrno(error)),
      );
    },
    readdir: (path, cb) => {
      void (async () => {
        const names: string[] = [];
        for await (const entry of client.list(doraPath(path))) names.push(entry.name);
        return names;
      })().then(
        (names) => cb(0, names),
        (error: unknown) => cb(fuseErrno(error)),
      );
    },
    open: (path, flags, cb) => {
      if ((flags & O_ACCMODE) !== fsConstants.O_RDONLY) return cb(-constants.errno.EROFS);
      client.stat(doraPath(path)).then(
        (status) => {
          if (status.kind === 'directory') return cb(-constants.errno.EISDIR);
          const fd = nextFd++;
          open.set(fd, { path: status.path, version: status.version });
          cb(0, fd);
        },
        (error: unknown) => cb(fuseErrno(error)),
      );
    },
    read: (_path, fd, buffer, length, position, cb) => {
      const file = open.get(fd);
      if (file === undefined) return cb(fuseErrno(new DoraError('INVALID_ARGUMENT', `Cannot read: no open file ${fd}`)));
      client
        .read(file.path, { offset: position, length, version: file.version })
        .then(readAll)
        .then(
          (bytes) => cb(bytes.copy(buffer, 0, 0, Math.min(length, bytes.length))),
          (error: unknown) => cb(fuseErrno(error)),
        );
    },
    release: (_path, fd, cb) => {
      open.delete(fd);
      cb(0);
    },
    statfs: (_path, cb) => {
      cb(0, { bsize: 4096, frsize: 4096, blocks: 1 << 30, bfree: 1 << 29, bavail: 1 << 29, files: 1 << 20, ffree: 1 << 20, favail: 1 << 20, fsid: 0, flag: 0, namemax: 255 });
    },
  };
}

function toStat(status: FileStatus): FuseStat {
  const time = new Date(status.mtimeMs);
  const directory = status.kind === 'directory';
  return {
    mode: directory ? 0o40755 : 0o100644,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    size: directory ? 4096 : status.size,
    dev: 0,
    nlink: directory ? 2 : 1,
    ino: 0,
    rdev: 0,
    blksize: 4096,
    blocks: Math.ceil(status.size / 512),
    atime: time,
    mtime: time,
    ctime: time,
  };
}
