import type { Attributes, DoraFs, FuseSettings } from '../dora-fs.js';
import { runFuseRequest } from '../fuse-failure.js';
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
  /** Runs operation `op` on `path` and answers: 0 (and the value) on success, the errno of the failure otherwise. */
  const answer = <T>(op: string, path: string, cb: (errno: number, value?: T) => void, work: () => Promise<T>): void => {
    void runFuseRequest({ op, path: () => path }, work).then((outcome) => ('errno' in outcome ? cb(outcome.errno) : cb(0, outcome.value)));
  };
  /** A read or write answers with the bytes it moved, or the negative errno. */
  const io = (op: string, path: string, cb: (result: number) => void, work: () => Promise<number>): void => {
    void runFuseRequest({ op, path: () => path }, work).then((outcome) => cb('errno' in outcome ? outcome.errno : outcome.value));
  };
  return {
    getattr: (path, cb) => answer('getattr', path, cb, async () => toStat(await fs.getattr(path))),
    readdir: (path, cb) => {
      answer('readdir', path, cb, async () => {
        const names: string[] = []; // libfuse 2's high-level readdir takes a directory in one call
        for await (const entry of fs.list(path)) names.push(entry.name);
        return names;
      });
    },
    open: (path, flags, cb) => answer('open', path, cb, async () => (await fs.open(path, flags)).fh),
    create: (path, _mode, cb) => answer('create', path, cb, () => fs.create(path)),
    read: (path, fh, buffer, length, position, cb) => io('read', path, cb, () => fs.read(fh, buffer, length, position)),
    write: (path, fh, buffer, length, position, cb) => io('write', path, cb, () => fs.write(fh, buffer, length, position)),
    flush: (path, fh, cb) => answer('flush', path, cb, () => fs.flush(fh)),
    fsync: (path, _dataSync, fh, cb) => answer('fsync', path, cb, () => fs.flush(fh)),
    release: (path, fh, cb) => answer('release', path, cb, () => fs.release(fh)),
    ftruncate: (path, fh, size, cb) => answer('ftruncate', path, cb, () => fs.ftruncate(fh, size)),
    truncate: (path, size, cb) => answer('truncate', path, cb, () => fs.truncate(path, size)),
    unlink: (path, cb) => answer('unlink', path, cb, () => fs.unlink(path)),
    rmdir: (path, cb) => answer('rmdir', path, cb, () => fs.rmdir(path)),
    mkdir: (path, _mode, cb) => answer('mkdir', path, cb, () => fs.mkdir(path)),
    rename: (from, to, cb) => answer('rename', from, cb, () => fs.rename(from, to)),
    chmod: (path, _mode, cb) => answer('chmod', path, cb, () => fs.accept(path)),
    chown: (path, _uid, _gid, cb) => answer('chown', path, cb, () => fs.accept(path)),
    utimens: (path, _atime, _mtime, cb) => answer('utimens', path, cb, () => fs.accept(path)),
    statfs: (path, cb) => {
      answer('statfs', path, cb, async () => {
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
