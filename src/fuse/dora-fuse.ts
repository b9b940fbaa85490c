import { constants as fsConstants } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DoraClient } from '../client/dora-client.js';
import type { FileStatus } from '../client/client-types.js';
import { DoraError } from '../common/errors.js';
import { coveringMount, normalizeDoraPath } from '../mount/dora-path.js';
import type { MountInfo } from '../mount/mount-info.js';
import { createFuse, forceUnmount, type FuseMount, type FuseOperations, type FuseStat } from './fuse-binding.js';
import { fuseErrno, PosixError } from './fuse-errno.js';
import { OpenFiles } from './open-files.js';

export interface DoraFuseOptions {
  readonly client: DoraClient;
  /** Where to mount on the host; created if missing. A stale mount there (a crashed daemon) is replaced. */
  readonly mountPoint: string;
  /** The dora path shown at the mount point; default '/'. */
  readonly root?: string;
  /** How long the kernel trusts attributes and names, in seconds (read-mostly data: default 1). */
  readonly cacheSeconds?: number;
  /** Largest existing file changed in place (appends, random writes), copied to local disk meanwhile; default 1 GiB. */
  readonly maxStagedBytes?: number;
}

const O_ACCMODE = 3;

/**
 * The dora namespace as a local file system (issue 6), over the client SDK: every read goes
 * through the cluster's cache, with its failover; a file opened for reading sees one version. Writes
 * (new files, O_TRUNC, appends and random writes to files up to `maxStagedBytes`) are staged on local
 * disk and written through whole on close.
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

  /** Mounts and resolves once the kernel serves the mount. Throws the binding's error (no /dev/fuse, a busy mount point). */
  static async mount(options: DoraFuseOptions): Promise<DoraFuse> {
    const cacheSeconds = options.cacheSeconds ?? 1;
    const stagingDir = join(tmpdir(), `dora-fuse-${process.pid}-${Date.now().toString(36)}`);
    const files = new OpenFiles(options.client, { stagingDir, maxStagedBytes: options.maxStagedBytes ?? 1024 ** 3 });
    const ops = operations(options.client, normalizeDoraPath(options.root ?? '/'), files, Math.max(1000, cacheSeconds * 1000));
    const fuse = createFuse(options.mountPoint, ops, {
      force: true,
      mkdir: true,
      fsname: 'dora',
      attrTimeout: cacheSeconds,
      entryTimeout: cacheSeconds,
      maxRead: 1024 * 1024,
    });
    await forceUnmount(options.mountPoint); // recovers a mount left by a crashed daemon ("Transport endpoint is not connected")
    await new Promise<void>((resolve, reject) => fuse.mount((error) => (error === null ? resolve() : reject(error))));
    return new DoraFuse(options.mountPoint, fuse, stagingDir);
  }

  /** Unmounts and removes the staging area of writes. Idempotent. */
  async unmount(): Promise<void> {
    await new Promise<void>((resolve) => this.#fuse.unmount(() => resolve()));
    await rm(this.#stagingDir, { recursive: true, force: true });
  }
}

function operations(client: DoraClient, root: string, files: OpenFiles, cacheMs: number): FuseOperations {
  const doraPath = (path: string): string => (root === '/' ? normalizeDoraPath(path) : normalizeDoraPath(`${root}${path === '/' ? '' : path}`));
  /** Answers the kernel: 0 (and the value) on success, the errno of the failure otherwise. */
  const answer = <T>(work: Promise<T>, cb: (errno: number, value?: T) => void): void => {
    work.then(
      (value) => cb(0, value),
      (error: unknown) => cb(fuseErrno(error)),
    );
  };
  const ok = (): Promise<void> => Promise.resolve();
  let mounts: { readonly at: number; readonly list: readonly MountInfo[] } | undefined;
  /** Refuses a change under a read-only mount with EROFS (the mount table is trusted as long as attributes). */
  const writable = async (path: string): Promise<void> => {
    if (mounts === undefined || Date.now() - mounts.at > cacheMs) mounts = { at: Date.now(), list: await client.mounts() };
    if (coveringMount(mounts.list, path)?.readOnly === true) throw new PosixError('EROFS', `Cannot change "${path}": its mount is read-only`);
  };
  const changing = <T>(path: string, change: () => Promise<T>): Promise<T> => writable(path).then(change);
  return {
    getattr: (path, cb) => {
      const target = doraPath(path);
      answer(
        client.stat(target).then(
          (status) => toStat(status, files.stagedSize(status.path)),
          (error: unknown) => {
            const staged = files.stagedSize(target); // created, not yet flushed
            if (staged === undefined) throw error;
            return toStat({ path: target, name: '', kind: 'file', size: staged, mtimeMs: Date.now(), version: '', mount: '' });
          },
        ),
        cb,
      );
    },
    readdir: (path, cb) => {
      answer(
        (async () => {
          const names: string[] = [];
          for await (const entry of client.list(doraPath(path))) names.push(entry.name);
          return names;
        })(),
        cb,
      );
    },
    open: (path, flags, cb) => {
      const writing = (flags & O_ACCMODE) !== fsConstants.O_RDONLY;
      const target = doraPath(path);
      answer(writing ? changing(target, () => files.openWrite(target, { truncate: (flags & fsConstants.O_TRUNC) !== 0 })) : files.openRead(target), cb);
    },
    create: (path, _mode, cb) => answer(changing(doraPath(path), () => files.openWrite(doraPath(path), { truncate: true })), cb),
    read: (_path, fd, buffer, length, position, cb) => {
      files.read(fd, buffer, length, position).then(cb, (error: unknown) => cb(fuseErrno(error)));
    },
    write: (_path, fd, buffer, length, position, cb) => {
      files.write(fd, buffer, length, position).then(cb, (error: unknown) => cb(fuseErrno(error)));
    },
    flush: (_path, fd, cb) => answer(files.flush(fd), cb),
    fsync: (_path, _dataSync, fd, cb) => answer(files.flush(fd), cb),
    release: (_path, fd, cb) => answer(files.flush(fd).finally(() => files.release(fd)), cb),
    ftruncate: (_path, fd, size, cb) => answer(files.truncate(fd, size), cb),
    truncate: (path, size, cb) => {
      answer(
        (async () => {
          await writable(doraPath(path));
          if (await files.truncateOpen(doraPath(path), size)) return;
          const fd = await files.openWrite(doraPath(path), { truncate: size === 0 });
          try {
            await files.truncate(fd, size);
            await files.flush(fd);
          } finally {
            await files.release(fd);
          }
        })(),
        cb,
      );
    },
    unlink: (path, cb) => answer(changing(doraPath(path), () => client.delete(doraPath(path))), cb),
    rmdir: (path, cb) => {
      answer(
        changing(doraPath(path), () => client.stat(doraPath(path))).then((status) => {
          if (status.kind !== 'directory') throw new DoraError('NOT_A_DIRECTORY', `Cannot remove "${status.path}": it is a file`);
          return client.delete(status.path);
        }),
        cb,
      );
    },
    mkdir: (path, _mode, cb) => {
      const target = doraPath(path);
      answer(
        client.stat(target).then(
          () => {
            throw new DoraError('ALREADY_EXISTS', `Cannot create directory "${target}": something is there`);
          },
          (error: unknown) => {
            if (!(error instanceof DoraError && error.code === 'NOT_FOUND')) throw error;
            return changing(target, () => client.mkdir(target));
          },
        ),
        cb,
      );
    },
    rename: (from, to, cb) => answer(changing(doraPath(from), () => changing(doraPath(to), () => client.rename(doraPath(from), doraPath(to)))), cb),
    // Stores keep no modes, owners or times of their own: accepted, as the mount shows its own.
    chmod: (_path, _mode, cb) => answer(ok(), cb),
    chown: (_path, _uid, _gid, cb) => answer(ok(), cb),
    utimens: (_path, _atime, _mtime, cb) => answer(ok(), cb),
    statfs: (_path, cb) => {
      cb(0, { bsize: 4096, frsize: 4096, blocks: 1 << 30, bfree: 1 << 29, bavail: 1 << 29, files: 1 << 20, ffree: 1 << 20, favail: 1 << 20, fsid: 0, flag: 0, namemax: 255 });
    },
  };
}

function toStat(status: FileStatus, stagedSize?: number): FuseStat {
  const time = new Date(status.mtimeMs);
  const directory = status.kind === 'directory';
  return {
    mode: directory ? 0o40755 : 0o100644,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    size: directory ? 4096 : (stagedSize ?? status.size),
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
