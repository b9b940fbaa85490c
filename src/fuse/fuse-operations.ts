import { constants as fsConstants } from 'node:fs';
import type { DoraClient } from '../client/dora-client.js';
import type { FileStatus } from '../client/client-types.js';
import { DoraError } from '../common/errors.js';
import type { DoraConfig } from '../conf/config-keys.js';
import { coveringMount, normalizeDoraPath } from '../mount/dora-path.js';
import type { MountInfo } from '../mount/mount-info.js';
import type { FuseOperations, FuseStat } from './fuse-binding.js';
import { fuseErrno, PosixError } from './fuse-errno.js';
import { ListingAttributes } from './listing-attributes.js';
import type { OpenFiles } from './open-files.js';
import { VersionTimes } from './version-times.js';

export type FuseSettings = DoraConfig['fuse'];

const O_ACCMODE = 3;
const NAME_MAX = 255;
const BLOCK = 4096;
/**
 * How long a listed file's attributes serve the lookup that follows the listing (`ls -l` of 100,000
 * entries looks the last one up seconds after listing it): as long as a worker trusts a listed
 * file's status anyway (metadata.syncInterval's default).
 */
const LISTED_TRUST_MS = 30_000;
/** Entries per listing call of a directory read (the worker's largest page is 10,000). */
const LISTING_PAGE = 5000;

/** A value kept for a while (the mount table, the cluster's capacity). */
function kept<T>(ttlMs: number, load: () => Promise<T>): () => Promise<T> {
  let value: { readonly at: number; readonly value: T } | undefined;
  return async () => {
    if (value === undefined || Date.now() - value.at > ttlMs) value = { at: Date.now(), value: await load() };
    return value.value;
  };
}

/**
 * The kernel's requests on a FUSE mount of dora path `root`, answered through the client SDK. Every
 * answer is asynchronous: the event loop never waits on the cluster or the store.
 */
export function fuseOperations(client: DoraClient, root: string, files: OpenFiles, settings: FuseSettings): FuseOperations {
  const listed = new ListingAttributes(settings.listingAttributes, Math.max(settings.attrTimeout, LISTED_TRUST_MS));
  const times = new VersionTimes(Math.max(settings.listingAttributes, 10_000));
  const trustMs = Math.max(1000, settings.attrTimeout);
  const mounts = kept<readonly MountInfo[]>(trustMs, () => client.mounts());
  const capacity = kept(trustMs, () => clusterCapacity(client));

  const doraPath = (path: string): string => {
    for (const name of path.split('/')) {
      if (Buffer.byteLength(name) > NAME_MAX) throw new PosixError('ENAMETOOLONG', `Cannot use "${name.slice(0, 32)}…": names are at most ${NAME_MAX} bytes`);
    }
    return normalizeDoraPath(root === '/' ? path : `${root}${path === '/' ? '' : path}`);
  };
  /** Runs `work` and answers the kernel: 0 (and the value) on success, the errno of the failure otherwise. */
  const answer = <T>(cb: (errno: number, value?: T) => void, work: () => Promise<T>): void => {
    work().then(
      (value) => cb(0, value),
      (error: unknown) => cb(fuseErrno(error)),
    );
  };
  /** Makes a change under `paths`: EROFS under a read-only mount (the mount table is trusted as long as attributes). */
  const change = async <T>(paths: readonly string[], work: () => Promise<T>): Promise<T> => {
    const table = await mounts();
    for (const path of paths) {
      if (coveringMount(table, path)?.readOnly === true) throw new PosixError('EROFS', `Cannot change "${path}": its mount is read-only`);
    }
    try {
      return await work();
    } finally {
      listed.clear();
    }
  };
  const written = async (fd: number): Promise<void> => {
    await files.flush(fd);
    listed.clear();
  };

  return {
    getattr: (path, cb) => {
      answer(cb, async () => {
        const target = doraPath(path);
        const status = listed.take(target) ?? (await client.stat(target).catch((error: unknown) => stagedOnly(target, files.stagedSize(target), error)));
        return toStat(status, times.mtimeOf(status), files.stagedSize(status.path));
      });
    },
    readdir: (path, cb) => {
      answer(cb, async () => {
        const names: string[] = [];
        for await (const entry of client.list(doraPath(path), { pageSize: LISTING_PAGE })) {
          // Files only: a directory's status (its mtime) comes from its own owner's cache, and tar
          // compares the one before reading a directory with the one after.
          if (entry.kind === 'file') listed.remember(entry);
          names.push(entry.name);
        }
        return names;
      });
    },
    open: (path, flags, cb) => {
      answer(cb, async () => {
        const target = doraPath(path);
        if ((flags & O_ACCMODE) === fsConstants.O_RDONLY) return files.openRead(target);
        return change([target], () => files.openWrite(target, { truncate: (flags & fsConstants.O_TRUNC) !== 0 }));
      });
    },
    create: (path, _mode, cb) => {
      answer(cb, async () => {
        const target = doraPath(path);
        return change([target], () => files.openWrite(target, { truncate: true }));
      });
    },
    read: (_path, fd, buffer, length, position, cb) => {
      files.read(fd, buffer, length, position).then(cb, (error: unknown) => cb(fuseErrno(error)));
    },
    write: (_path, fd, buffer, length, position, cb) => {
      files.write(fd, buffer, length, position).then(cb, (error: unknown) => cb(fuseErrno(error)));
    },
    flush: (_path, fd, cb) => answer(cb, () => written(fd)),
    fsync: (_path, _dataSync, fd, cb) => answer(cb, () => written(fd)),
    release: (_path, fd, cb) => answer(cb, () => written(fd).finally(() => files.release(fd))),
    ftruncate: (_path, fd, size, cb) => answer(cb, () => files.truncate(fd, size)),
    truncate: (path, size, cb) => {
      answer(cb, async () => {
        const target = doraPath(path);
        await change([target], async () => {
          if (await files.truncateOpen(target, size)) return; // the kernel truncates by path after an open with O_TRUNC
          const fd = await files.openWrite(target, { truncate: size === 0 });
          try {
            await files.truncate(fd, size);
            await files.flush(fd);
          } finally {
            await files.release(fd);
          }
        });
      });
    },
    unlink: (path, cb) => {
      answer(cb, async () => {
        const target = doraPath(path);
        await change([target], () => client.delete(target));
      });
    },
    rmdir: (path, cb) => {
      answer(cb, async () => {
        const target = doraPath(path);
        await change([target], async () => {
          const status = await client.stat(target);
          if (status.kind !== 'directory') throw new DoraError('NOT_A_DIRECTORY', `Cannot remove "${status.path}": it is a file`);
          await client.delete(status.path);
        });
      });
    },
    mkdir: (path, _mode, cb) => {
      answer(cb, async () => {
        const target = doraPath(path);
        const existing = await client.stat(target).catch((error: unknown) => {
          if (error instanceof DoraError && error.code === 'NOT_FOUND') return undefined;
          throw error;
        });
        if (existing !== undefined) throw new DoraError('ALREADY_EXISTS', `Cannot create directory "${target}": something is there`);
        await change([target], () => client.mkdir(target));
      });
    },
    rename: (from, to, cb) => {
      answer(cb, async () => {
        const [source, target] = [doraPath(from), doraPath(to)];
        await change([source, target], () => client.rename(source, target));
      });
    },
    // Stores keep no modes, owners or times of their own: accepted, as the mount shows its own.
    chmod: (path, _mode, cb) => answer(cb, async () => void doraPath(path)),
    chown: (path, _uid, _gid, cb) => answer(cb, async () => void doraPath(path)),
    utimens: (path, _atime, _mtime, cb) => answer(cb, async () => void doraPath(path)),
    statfs: (_path, cb) => {
      answer(cb, async () => {
        const { total, used } = await capacity();
        const blocks = Math.max(1, Math.floor(total / BLOCK));
        const free = Math.max(0, Math.floor((total - used) / BLOCK));
        return { bsize: BLOCK, frsize: BLOCK, blocks, bfree: free, bavail: free, files: 0, ffree: 0, favail: 0, fsid: 0, flag: 0, namemax: NAME_MAX };
      });
    },
  };
}

/** A file created and not yet written through has only its staged size; anything else rethrows. */
function stagedOnly(path: string, staged: number | undefined, error: unknown): FileStatus {
  if (staged === undefined) throw error;
  return { path, name: '', kind: 'file', size: staged, mtimeMs: Date.now(), version: '', mount: '' };
}

/** The cluster's cache: capacity and bytes held over every tier of every worker that answered. */
async function clusterCapacity(client: DoraClient): Promise<{ total: number; used: number }> {
  let total = 0;
  let used = 0;
  for (const worker of (await client.cacheSummary()).workers) {
    if ('error' in worker) continue;
    for (const tier of worker.tiers) {
      total += tier.capacityBytes;
      used += tier.bytes;
    }
  }
  return { total, used };
}

/** The mounting user owns everything shown. */
const OWNER = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

function toStat(status: FileStatus, mtimeMs: number, stagedSize?: number): FuseStat {
  const time = new Date(mtimeMs);
  const directory = status.kind === 'directory';
  const size = directory ? BLOCK : (stagedSize ?? status.size);
  return {
    mode: directory ? 0o40755 : 0o100644,
    uid: OWNER.uid,
    gid: OWNER.gid,
    size,
    dev: 0,
    nlink: directory ? 2 : 1,
    ino: 0,
    rdev: 0,
    blksize: BLOCK,
    blocks: Math.ceil(size / 512),
    atime: time,
    mtime: time,
    ctime: time,
  };
}
