import type { Attributes, DoraFs, FuseSettings } from '../dora-fs.js';
import { fuseErrno } from '../fuse-errno.js';
import type { FuseSession } from '../fuse-session.js';
import { createFuse, type FuseOperations, type FuseOptions, type FuseStat } from './fuse-binding.js';

/**
 * FUSE through libfuse 2 (the @cocalc/fuse-native binding): works without root (fusermount), but
 * the kernel asks at most 128 KiB per request and every request crosses from a libfuse thread to
 * the event loop and back; a directory is listed to libfuse in one call.
 */
export async function mountWithLibfuse(mountPoint: string, fs: DoraFs, settings: FuseSettings): Promise<FuseSession> {
  const fuse = createFuse(mountPoint, operations(fs), mountOptions(settings));
  await new Promise<void>((resolve, reject) => fuse.mount((error) => (error === null ? resolve() : reject(error))));
  // libfuse does not say when its mount is removed by someone else: its session keeps the process alive until unmounted.
  return { closed: new Promise<void>(() => undefined), unmount: () => new Promise<void>((resolve) => fuse.unmount(() => resolve())) };
}

function operations(fs: DoraFs): FuseOperations {
  /** Runs `work` and answers: 0 (and the value) on success, the errno of the failure otherwise. */
  const answer = <T>(cb: (errno: number, value?: T) => void, work: () => Promise<T>): void => {
    work().then(
      (value) => cb(0, value),
      (error: unknown) => cb(fuseErrno(error)),
    );
  };
  return {
    getattr: (path, cb) => answer(cb, async () => toStat(await fs.getattr(path))),
    readdir: (path, cb) => {
      answer(cb, async () => {
        const names: string[] = []; // libfuse 2's high-level readdir takes a directory in one call
        for await (const entry of fs.list(path)) names.push(entry.name);
        return names;
      });
    },
    open: (path, flags, cb) => answer(cb, async () => (await fs.open(path, flags)).fh),
    create: (path, _mode, cb) => answer(cb, () => fs.create(path)),
    read: (_path, fh, buffer, length, position, cb) => {
      fs.read(fh, buffer, length, position).then(cb, (error: unknown) => cb(fuseErrno(error)));
    },
    write: (_path, fh, buffer, length, position, cb) => {
      fs.write(fh, buffer, length, position).then(cb, (error: unknown) => cb(fuseErrno(error)));
    },
    flush: (_path, fh, cb) => answer(cb, () => fs.flush(fh)),
    fsync: (_path, _dataSync, fh, cb) => answer(cb, () => fs.flush(fh)),
    release: (_path, fh, cb) => answer(cb, () => fs.release(fh)),
    ftruncate: (_path, fh, size, cb) => answer(cb, () => fs.ftruncate(fh, size)),
    truncate: (path, size, cb) => answer(cb, () => fs.truncate(path, size)),
    unlink: (path, cb) => answer(cb, () => fs.unlink(path)),
    rmdir: (path, cb) => answer(cb, () => fs.rmdir(path)),
    mkdir: (path, _mode, cb) => answer(cb, () => fs.mkdir(path)),
    rename: (from, to, cb) => answer(cb, () => fs.rename(from, to)),
    chmod: (path, _mode, cb) => answer(cb, () => fs.accept(path)),
    chown: (path, _uid, _gid, cb) => answer(cb, () => fs.accept(path)),
    utimens: (path, _atime, _mtime, cb) => answer(cb, () => fs.accept(path)),
    statfs: (_path, cb) => {
      answer(cb, async () => {
        const c = await fs.statfs();
        return { bsize: c.blockSize, frsize: c.blockSize, blocks: c.blocks, bfree: c.free, bavail: c.free, files: 0, ffree: 0, favail: 0, fsid: 0, flag: 0, namemax: c.nameMax };
      });
    },
  };
}

function toStat(attributes: Attributes): FuseStat {
  const time = new Date(attributes.mtimeMs);
  return { ...attributes, dev: 0, ino: 0, rdev: 0, blksize: 4096, blocks: Math.ceil(attributes.size / 512), atime: time, mtime: time, ctime: time };
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
