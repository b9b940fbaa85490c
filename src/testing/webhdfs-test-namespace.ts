import type { Stats } from 'node:fs';
import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { remote } from './webhdfs-test-http.js';

/** WebHDFS's FileStatus JSON object, every documented field. */
export interface FileStatusJson {
  accessTime: number;
  blockSize: number;
  childrenNum: number;
  fileId: number;
  group: string;
  length: number;
  modificationTime: number;
  owner: string;
  pathSuffix: string;
  permission: string;
  replication: number;
  storagePolicy: number;
  type: 'FILE' | 'DIRECTORY';
}

/** What HDFS keeps of an inode beyond what the host file system does. */
interface Inode {
  readonly fileId: number;
  readonly owner: string;
  readonly xattrs: Map<string, Buffer>;
}

/** HDFS's default limit on one extended attribute's name and value (`dfs.namenode.fs-limits.max-xattr-size`). */
const MAX_XATTR_SIZE = 16384;

/**
 * The test server's namespace: HDFS paths over a host directory, with what HDFS adds (inode ids
 * that are never reused, owners, extended attributes) kept in memory by host inode and dropped
 * when the server removes the file. Every failure is a RemoteError naming Hadoop's exception.
 */
export class WebHdfsTestNamespace {
  readonly #root: string;
  readonly #inodes = new Map<bigint, Inode>();
  #nextFileId = 16385; // HDFS's root directory's id; files follow

  constructor(root: string) {
    this.#root = root;
  }

  async status(path: string): Promise<FileStatusJson> {
    const stats = await this.#stat(path);
    if (stats === undefined) throw remote.notFound(`File does not exist: ${path}`);
    return this.#json('', stats, await this.#childrenOf(path, stats));
  }

  /** A directory's entries in HDFS's order (signed bytes); a file lists as itself. */
  async list(path: string): Promise<FileStatusJson[]> {
    return (await this.listPage(path, undefined, Number.MAX_SAFE_INTEGER)).statuses;
  }

  /** At most `limit` entries after the name `startAfter`, and how many remain after them. */
  async listPage(path: string, startAfter: string | undefined, limit: number): Promise<{ statuses: FileStatusJson[]; remaining: number }> {
    const stats = await this.#stat(path);
    if (stats === undefined) throw remote.notFound(`File ${path} does not exist.`);
    if (!stats.isDirectory()) return { statuses: [this.#json('', stats, 0)], remaining: 0 };
    const names = (await readdir(this.#host(path))).sort(compareSigned).filter((n) => startAfter === undefined || compareSigned(n, startAfter) > 0);
    const statuses: FileStatusJson[] = [];
    let taken = 0;
    for (; taken < names.length && statuses.length < limit; taken++) {
      const name = names[taken] as string;
      const child = await lstat(join(this.#host(path), name)).catch(() => undefined);
      if (child !== undefined && (child.isFile() || child.isDirectory())) statuses.push(this.#json(name, child, await this.#childrenOf(childPath(path, name), child)));
    }
    return { statuses, remaining: names.length - taken };
  }

  async mkdirs(path: string, user: string): Promise<void> {
    await this.#checkParents(path);
    const stats = await this.#stat(path);
    if (stats?.isFile() === true) throw remote.alreadyExists(`Path is not a directory: ${path}`);
    await this.#makeDirectories(path, user);
  }

  /** False when nothing is at `path`. */
  async delete(path: string, recursive: boolean): Promise<boolean> {
    const stats = await this.#stat(path);
    if (stats === undefined) return false;
    if (path === '/') throw remote.io('Cannot delete the root directory');
    if (stats.isDirectory() && !recursive && (await readdir(this.#host(path))).length > 0) {
      throw remote.notEmpty(`\`${path} is non empty': Directory is not empty`);
    }
    await this.#forget(path, stats);
    await (stats.isDirectory() ? rm(this.#host(path), { recursive: true }) : unlink(this.#host(path)));
    return true;
  }

  /** HDFS's rename2 (`renameoptions`): replaces a file or an empty directory with OVERWRITE, fails loudly otherwise. */
  async rename2(src: string, dst: string, overwrite: boolean): Promise<void> {
    const from = await this.#stat(src);
    if (from === undefined) throw remote.notFound(`rename source ${src} is not found.`);
    if (src === dst) throw remote.alreadyExists(`The source ${src} and destination ${dst} are the same`);
    if (dst.startsWith(`${src}/`)) throw remote.io(`Rename destination ${dst} is a directory or file under source ${src}`);
    await this.#checkParents(dst);
    if ((await this.#stat(parentPath(dst))) === undefined) throw remote.notFound(`rename destination parent ${parentPath(dst)} not found.`);
    const to = await this.#stat(dst);
    if (to !== undefined) {
      if (to.isDirectory() !== from.isDirectory()) throw remote.io(`Source ${src} and destination ${dst} must both be directories`);
      if (!overwrite) throw remote.alreadyExists(`rename destination ${dst} already exists`);
      if (to.isDirectory() && (await readdir(this.#host(dst))).length > 0) throw remote.io(`rename destination directory is not empty: ${dst}`);
      await this.#forget(dst, to);
    }
    await rename(this.#host(src), this.#host(dst));
  }

  /** HDFS's old rename: false instead of an error, never replaces, moves into a directory at the destination. */
  async renameOld(src: string, dst: string): Promise<boolean> {
    const from = await this.#stat(src);
    const to = await this.#stat(dst);
    const target = to?.isDirectory() === true ? childPath(dst, src.slice(src.lastIndexOf('/') + 1)) : dst;
    if (from === undefined || src === target || target.startsWith(`${src}/`)) return false;
    if ((await this.#stat(target)) !== undefined || (await this.#stat(parentPath(target)))?.isDirectory() !== true) return false;
    await rename(this.#host(src), this.#host(target));
    return true;
  }

  /** Creates (or with `overwrite` replaces: a new inode) a file and returns a stream into it. */
  async create(path: string, overwrite: boolean, user: string): Promise<WriteStream> {
    await this.#checkParents(path);
    const existing = await this.#stat(path);
    if (existing?.isDirectory() === true) throw remote.alreadyExists(`${path} already exists as a directory`);
    if (existing !== undefined && !overwrite) throw remote.alreadyExists(`${path} for client 127.0.0.1 already exists`);
    if (existing !== undefined) {
      await this.#forget(path, existing);
      await unlink(this.#host(path));
    }
    await this.#makeDirectories(parentPath(path), user);
    const out = createWriteStream(this.#host(path), { flags: 'wx' });
    await new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
    this.#inode(await lstat(this.#host(path)), user);
    return out;
  }

  /** `length` bytes (to the end when absent) at `offset` of a file. */
  async open(path: string, offset: number, length: number | undefined): Promise<{ stream: ReadStream | undefined; length: number }> {
    const stats = await this.#stat(path);
    if (stats === undefined) throw remote.notFound(`File does not exist: ${path}`);
    if (!stats.isFile()) throw remote.notFound(`Path is not a file: ${path}`);
    if (offset > stats.size) throw remote.eof('Cannot seek after EOF');
    const count = Math.min(length ?? Number.MAX_SAFE_INTEGER, stats.size - offset);
    return { stream: count === 0 ? undefined : createReadStream(this.#host(path), { start: offset, end: offset + count - 1 }), length: count };
  }

  async setXattr(path: string, name: string, value: Buffer, flags: string): Promise<void> {
    const inode = await this.#existing(path);
    if (!/^(user|trusted|security|system|raw)\./.test(name)) throw remote.illegalArgument(`An XAttr name must be prefixed with user/trusted/security/system/raw, followed by a '.'`);
    if (!name.startsWith('user.')) throw remote.accessDenied(`User doesn't have permission for xattr: ${name}`);
    if (Buffer.byteLength(name) - 'user.'.length + value.length > MAX_XATTR_SIZE) throw remote.illegalArgument(`The XAttr is too big. The maximum combined size of the name and value is ${MAX_XATTR_SIZE}`);
    const set = flags.toUpperCase().split(',');
    const exists = inode.xattrs.has(name);
    if (exists && !set.includes('REPLACE')) throw remote.io(`XAttr: ${name} already exists. The REPLACE flag must be specified.`);
    if (!exists && !set.includes('CREATE')) throw remote.io(`XAttr: ${name} does not exist. The CREATE flag must be specified.`);
    inode.xattrs.set(name, value);
  }

  /** The attributes of `path` (all, or the `names` asked for: each must exist). */
  async getXattrs(path: string, names: readonly string[]): Promise<Map<string, Buffer>> {
    const inode = await this.#existing(path);
    if (names.length === 0) return new Map(inode.xattrs);
    if (!names.every((n) => inode.xattrs.has(n))) throw remote.io('At least one of the attributes provided was not found.');
    return new Map(names.map((n) => [n, inode.xattrs.get(n) as Buffer]));
  }

  /** Checks that `path` is a valid HDFS path, as DFSUtil.isValidName does. */
  static check(path: string): void {
    if (!path.startsWith('/')) throw remote.invalidPath(`Invalid path name ${path}`);
    for (const part of path.split('/').slice(1)) {
      if (path === '/') break;
      if (part === '' || part === '.' || part === '..' || part.includes(':')) throw remote.invalidPath(`Invalid path name Invalid file name: ${path}`);
    }
  }

  async #existing(path: string): Promise<Inode> {
    const stats = await this.#stat(path);
    if (stats === undefined) throw remote.notFound(`File does not exist: ${path}`);
    return this.#inode(stats);
  }

  /** ParentNotDirectoryException when a directory on the way to `path` is a file. */
  async #checkParents(path: string): Promise<void> {
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = `/${parts.slice(0, i).join('/')}`;
      const stats = await this.#stat(ancestor);
      if (stats === undefined) return;
      if (!stats.isDirectory()) throw remote.parentNotDirectory(`${ancestor} (is not a directory)`);
    }
  }

  async #makeDirectories(path: string, user: string): Promise<void> {
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i <= parts.length; i++) {
      const dir = this.#host(`/${parts.slice(0, i).join('/')}`);
      const made = await mkdir(dir).then(() => true, (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
        return false;
      });
      if (made) this.#inode(await lstat(dir), user);
    }
  }

  /** Drops what the server kept for `path` and everything below it (before the host removes them). */
  async #forget(path: string, stats: Stats): Promise<void> {
    if (stats.isDirectory()) {
      for (const name of await readdir(this.#host(path))) {
        const child = await lstat(join(this.#host(path), name)).catch(() => undefined);
        if (child !== undefined) await this.#forget(childPath(path, name), child);
      }
    }
    this.#inodes.delete(BigInt(stats.ino));
  }

  #inode(stats: Stats, owner = 'hdfs'): Inode {
    const key = BigInt(stats.ino);
    let inode = this.#inodes.get(key);
    if (inode === undefined) {
      inode = { fileId: this.#nextFileId++, owner, xattrs: new Map() };
      this.#inodes.set(key, inode);
    }
    return inode;
  }

  #json(pathSuffix: string, stats: Stats, childrenNum: number): FileStatusJson {
    const inode = this.#inode(stats);
    const file = stats.isFile();
    return {
      accessTime: file ? Math.floor(stats.atimeMs) : 0,
      blockSize: file ? 134217728 : 0,
      childrenNum,
      fileId: inode.fileId,
      group: 'supergroup',
      length: file ? stats.size : 0,
      modificationTime: Math.floor(stats.mtimeMs),
      owner: inode.owner,
      pathSuffix,
      permission: (stats.mode & 0o777).toString(8),
      replication: file ? 1 : 0,
      storagePolicy: 0,
      type: file ? 'FILE' : 'DIRECTORY',
    };
  }

  async #childrenOf(path: string, stats: Stats): Promise<number> {
    return stats.isDirectory() ? (await readdir(this.#host(path))).length : 0;
  }

  /** The host's status of `path`; undefined when nothing is there (or a file is on the way, as HDFS says). */
  async #stat(path: string): Promise<Stats | undefined> {
    WebHdfsTestNamespace.check(path);
    return stat(this.#host(path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
  }

  #host(path: string): string {
    return join(this.#root, ...path.split('/').filter((p) => p !== ''));
  }
}

/** HDFS's order of names: UTF-8 bytes compared as signed (DFSUtil.compareBytes), so bytes ≥ 0x80 sort first. */
export function compareSigned(a: string, b: string): number {
  const x = Buffer.from(a).map((byte) => byte ^ 0x80);
  const y = Buffer.from(b).map((byte) => byte ^ 0x80);
  return Buffer.compare(x, y);
}

function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}
