import { constants as fsConstants } from 'node:fs';
import type { DoraClient } from '../client/dora-client.js';
import type { FileStatus } from '../client/client-types.js';
import type { IoEvent } from '../client/client-options.js';
import { DoraError } from '../common/errors.js';
import type { DoraConfig } from '../conf/config-keys.js';
import { coveringMount, normalizeDoraPath } from '../mount/dora-path.js';
import type { MountInfo } from '../mount/mount-info.js';
import { PosixError } from './fuse-errno.js';
import { ListingAttributes } from './listing-attributes.js';
import type { OpenFiles } from './open-files.js';
import { VersionTimes } from './version-times.js';

export type FuseSettings = DoraConfig['fuse'];

/** What a mount shows of a file or directory. */
export interface Attributes {
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
}

export interface Capacity {
  readonly blockSize: number;
  readonly blocks: number;
  readonly free: number;
  readonly nameMax: number;
}

const O_ACCMODE = 3;
export const NAME_MAX = 255;
const BLOCK = 4096;
/**
 * How long a listed file's attributes serve the lookup that follows the listing (`ls -l` of 100,000
 * entries looks the last one up seconds after listing it): as long as a worker trusts a listed
 * file's status anyway (metadata.syncInterval's default).
 */
const LISTED_TRUST_MS = 30_000;
/** Entries per listing call of a directory read (the worker's largest page is 10,000). */
const LISTING_PAGE = 5000;
/** The mounting user owns everything shown. */
const OWNER = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** A value kept for a while (the mount table, the cluster's capacity). */
function kept<T>(ttlMs: number, load: () => Promise<T>): () => Promise<T> {
  let value: { readonly at: number; readonly value: T } | undefined;
  return async () => {
    if (value === undefined || Date.now() - value.at > ttlMs) value = { at: Date.now(), value: await load() };
    return value.value;
  };
}

/**
 * The file system a FUSE mount of dora path `root` shows, by path relative to the mount (`/a/b`),
 * answered through the client SDK: what every FUSE transport calls. All of it is asynchronous: the
 * event loop never waits on the cluster or the store.
 */
export class DoraFs {
  readonly #client: DoraClient;
  readonly #root: string;
  readonly #files: OpenFiles;
  readonly #settings: FuseSettings;
  readonly #listed: ListingAttributes;
  readonly #times: VersionTimes;
  readonly #mounts: () => Promise<readonly MountInfo[]>;
  readonly #capacity: () => Promise<{ total: number; used: number }>;
  /** The version each recently opened file had, to keep the kernel's pages of an unchanged one. */
  readonly #opened = new Map<string, string>();
  readonly #started = Date.now();

  readonly #observeIo: ((event: IoEvent) => void) | undefined;

  constructor(client: DoraClient, root: string, files: OpenFiles, settings: FuseSettings, observeIo?: (event: IoEvent) => void) {
    this.#observeIo = observeIo;
    this.#client = client;
    this.#root = normalizeDoraPath(root);
    this.#files = files;
    this.#settings = settings;
    this.#listed = new ListingAttributes(settings.listingAttributes, Math.max(settings.attrTimeout, LISTED_TRUST_MS));
    this.#times = new VersionTimes(Math.max(settings.listingAttributes, 10_000));
    const trustMs = Math.max(1000, settings.attrTimeout);
    this.#mounts = kept(trustMs, () => client.mounts());
    this.#capacity = kept(trustMs, () => clusterCapacity(client));
  }

  async getattr(path: string): Promise<Attributes> {
    const target = this.#doraPath(path);
    const status =
      this.#listed.take(target) ??
      (await this.#client.stat(target).catch(async (error: unknown) => (await this.#aboveMounts(target)) ?? stagedOnly(target, this.#files.stagedSize(target), error)));
    return this.#attributes(status);
  }

  /** A directory no store holds that leads to mount points (the root of a cluster without a root mount). */
  async #aboveMounts(path: string): Promise<FileStatus | undefined> {
    const prefix = path === '/' ? '/' : `${path}/`;
    const below = (await this.#mounts()).some((mount) => mount.path.startsWith(prefix));
    return below ? { path, name: path.slice(path.lastIndexOf('/') + 1), kind: 'directory', size: 0, mtimeMs: this.#started, version: '', mount: '' } : undefined;
  }

  /** A directory's entries, fetched page by page as iterated (never all held at once). */
  async *list(path: string): AsyncGenerator<{ readonly name: string; readonly directory: boolean }> {
    for await (const entry of this.#client.list(this.#doraPath(path), { pageSize: LISTING_PAGE })) {
      // Files only: a directory's status (its mtime) comes from its own owner's cache, and tar
      // compares the one before reading a directory with the one after.
      if (entry.kind === 'file') this.#listed.remember(entry);
      yield { name: entry.name, directory: entry.kind === 'directory' };
    }
  }

  /**
   * Opens a file: for reading (pinned to its version) or writing (staged). `keepCache`: the kernel
   * may keep the pages it cached of this file (fuse.kernelCache: always, or while its version is the one last opened).
   */
  async open(path: string, flags: number): Promise<{ readonly fh: number; readonly keepCache: boolean }> {
    const target = this.#doraPath(path);
    if ((flags & O_ACCMODE) !== fsConstants.O_RDONLY) return { fh: await this.#change([target], () => this.#files.openWrite(target, { truncate: (flags & fsConstants.O_TRUNC) !== 0 })), keepCache: false };
    const { fh, version } = await this.#files.openRead(target);
    const keepCache = this.#settings.kernelCache === 'keep' || (this.#settings.kernelCache === 'auto' && this.#opened.get(target) === version);
    this.#opened.delete(target);
    this.#opened.set(target, version);
    if (this.#opened.size > this.#settings.listingAttributes) this.#opened.delete(this.#opened.keys().next().value ?? '');
    return { fh, keepCache };
  }

  async create(path: string): Promise<number> {
    const target = this.#doraPath(path);
    return this.#change([target], () => this.#files.openWrite(target, { truncate: true }));
  }

  read(fh: number, buffer: Buffer, length: number, position: number): Promise<number> {
    return this.#timed('read', () => this.#files.read(fh, buffer, length, position), (n) => n);
  }

  /** Like `read`, as the buffers the bytes are held in (a transport that can send them without copying). */
  readSlices(fh: number, length: number, position: number): Promise<Buffer[]> {
    return this.#timed('read', () => this.#files.slices(fh, length, position), (slices) => slices.reduce((n, b) => n + b.length, 0));
  }

  write(fh: number, buffer: Buffer, length: number, position: number): Promise<number> {
    return this.#timed('write', () => this.#files.write(fh, buffer, length, position), (n) => n);
  }

  /** Runs one read or write, told to `observeIo` (the FUSE interface's metrics). */
  #timed<T>(op: IoEvent['op'], run: () => Promise<T>, bytes: (result: T) => number): Promise<T> {
    const observe = this.#observeIo;
    if (observe === undefined) return run();
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    return run().then(
      (result) => {
        observe({ op, seconds: seconds(), bytes: bytes(result), ok: true });
        return result;
      },
      (error: unknown) => {
        observe({ op, seconds: seconds(), bytes: 0, ok: false });
        throw error;
      },
    );
  }

  /** Writes a changed file through (close, fsync). */
  async flush(fh: number): Promise<void> {
    await this.#files.flush(fh);
    this.#listed.clear();
  }

  async release(fh: number): Promise<void> {
    try {
      await this.flush(fh);
    } finally {
      await this.#files.release(fh);
    }
  }

  ftruncate(fh: number, size: number): Promise<void> {
    return this.#files.truncate(fh, size);
  }

  async truncate(path: string, size: number): Promise<void> {
    const target = this.#doraPath(path);
    await this.#change([target], async () => {
      if (await this.#files.truncateOpen(target, size)) return; // the kernel truncates by path after an open with O_TRUNC
      const fh = await this.#files.openWrite(target, { truncate: size === 0 });
      try {
        await this.#files.truncate(fh, size);
        await this.#files.flush(fh);
      } finally {
        await this.#files.release(fh);
      }
    });
  }

  async unlink(path: string): Promise<void> {
    const target = this.#doraPath(path);
    await this.#change([target], () => this.#client.delete(target));
  }

  async rmdir(path: string): Promise<void> {
    const target = this.#doraPath(path);
    await this.#change([target], async () => {
      const status = await this.#client.stat(target);
      if (status.kind !== 'directory') throw new DoraError('NOT_A_DIRECTORY', `Cannot remove "${status.path}": it is a file`);
      await this.#client.delete(status.path);
    });
  }

  async mkdir(path: string): Promise<void> {
    const target = this.#doraPath(path);
    const existing = await this.#client.stat(target).catch((error: unknown) => {
      if (error instanceof DoraError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    });
    if (existing !== undefined) throw new DoraError('ALREADY_EXISTS', `Cannot create directory "${target}": something is there`);
    await this.#change([target], () => this.#client.mkdir(target));
  }

  async rename(from: string, to: string): Promise<void> {
    const [source, target] = [this.#doraPath(from), this.#doraPath(to)];
    await this.#change([source, target], () => this.#client.rename(source, target));
  }

  /** chmod, chown, utimens: stores keep no modes, owners or times of their own, so these are accepted (the mount shows its own). */
  async accept(path: string): Promise<void> {
    this.#doraPath(path);
    return Promise.resolve();
  }

  /** The cluster's cache capacity (what df shows). */
  async statfs(): Promise<Capacity> {
    const { total, used } = await this.#capacity();
    return { blockSize: BLOCK, blocks: Math.max(1, Math.floor(total / BLOCK)), free: Math.max(0, Math.floor((total - used) / BLOCK)), nameMax: NAME_MAX };
  }

  #doraPath(path: string): string {
    for (const name of path.split('/')) {
      if (Buffer.byteLength(name) > NAME_MAX) throw new PosixError('ENAMETOOLONG', `Cannot use "${name.slice(0, 32)}…": names are at most ${NAME_MAX} bytes`);
    }
    return normalizeDoraPath(this.#root === '/' ? path : `${this.#root}${path === '/' ? '' : path}`);
  }

  /** Makes a change under `paths`: EROFS under a read-only mount (the mount table is trusted as long as attributes). */
  async #change<T>(paths: readonly string[], work: () => Promise<T>): Promise<T> {
    const table = await this.#mounts();
    for (const path of paths) {
      if (coveringMount(table, path)?.readOnly === true) throw new PosixError('EROFS', `Cannot change "${path}": its mount is read-only`);
    }
    try {
      return await work();
    } finally {
      this.#listed.clear();
    }
  }

  #attributes(status: FileStatus): Attributes {
    const directory = status.kind === 'directory';
    return {
      mode: directory ? 0o40755 : 0o100644,
      size: directory ? BLOCK : (this.#files.stagedSize(status.path) ?? status.size),
      mtimeMs: this.#times.mtimeOf(status),
      nlink: directory ? 2 : 1,
      ...OWNER,
    };
  }
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
