import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { byteRange } from '../../common/byte-range.js';
import { DoraError } from '../../common/errors.js';
import { checkedChunks, emptyStream, translateStreamErrors } from '../../common/streams.js';
import { abortedError, fromSystemError, throwIfAborted } from '../../common/system-errors.js';
import type {
  UfsCallOptions,
  UfsCapabilities,
  UfsListOptions,
  UfsReadOptions,
  UfsReadResult,
  UfsStatus,
  UfsTagging,
  UfsTags,
  UfsWriteOptions,
  UfsWriteSource,
  UnderFileSystem,
} from '../under-file-system.js';
import { checkUfsPath } from '../ufs-path.js';
import { listLocal, SortedDirectories } from './local-list.js';
import { LocalPath } from './local-path.js';
import { isInternalName, LocalSidecar, recordAttributes, TEMP_PREFIX } from './local-sidecar.js';
import { localStatus } from './local-status.js';

const READ_CHUNK = 256 * 1024;

/**
 * `file://` under storage: a directory on a local disk or an NFS mount. Writes go to a hidden
 * temporary file in the same directory, are synced, and renamed into place, so a reader never
 * sees half a file. No path leaves the root, through '..' or a symbolic link. What a file
 * system cannot keep (the content's MD5, content type, user metadata, tags) lives in a hidden
 * sidecar beside each file (see `LocalSidecar`); names starting `.dora-` are dora's own.
 */
export class LocalUfs implements UnderFileSystem {
  readonly uri: string;
  readonly capabilities: UfsCapabilities = { rename: true, multipart: false, tagging: true };
  readonly tagging: UfsTagging;
  readonly #paths: LocalPath;
  readonly #sorted = new SortedDirectories();

  /** `root` is an absolute host path. */
  constructor(root: string) {
    const trimmed = root.length > 1 ? root.replace(/\/+$/, '') : root;
    this.#paths = new LocalPath(trimmed);
    this.uri = `file://${trimmed === '/' ? '' : trimmed}/`;
    this.tagging = { get: (path, options) => this.#getTags(path, options), put: (path, tags, options) => this.#putTags(path, tags, options) };
  }

  async stat(path: string, options: UfsCallOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot stat "${this.uri}${path}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path);
      const host = await this.#paths.resolve(path, attempt);
      const status = localStatus(path, await stat(host, { bigint: true }), attempt);
      const record = await this.#sidecar(path).read(status.version);
      return { ...status, ...(record?.etag === undefined ? {} : { etag: record.etag }), attributes: recordAttributes(record) };
    });
  }

  async read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    const attempt = `Cannot read "${this.uri}${path}" at offset ${options.offset ?? 0}`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      const host = await this.#paths.resolve(path, attempt);
      const handle = await open(host, 'r');
      try {
        const status = localStatus(path, await handle.stat({ bigint: true }), attempt);
        if (status.kind === 'directory') throw new DoraError('IS_A_DIRECTORY', `${attempt}: it is a directory`);
        if (options.expectVersion !== undefined && options.expectVersion !== status.version) {
          throw new DoraError('FAILED_PRECONDITION', `${attempt}: the file changed (version ${status.version}, expected ${options.expectVersion})`);
        }
        const [start, end] = byteRange(status.size, options, attempt);
        if (end <= start) {
          await handle.close();
          return { stream: emptyStream(), status };
        }
        const raw = handle.createReadStream({ start, end: end - 1, highWaterMark: READ_CHUNK, autoClose: true });
        return { stream: translateStreamErrors(raw, (error) => fromSystemError(error, attempt)), status };
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
    });
  }

  async write(path: string, source: UfsWriteSource, options: UfsWriteOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot write "${this.uri}${path}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      checkUserName(path, attempt);
      const host = await this.#paths.resolve(path, attempt);
      if ((await lstat(host).catch(() => undefined))?.isDirectory() === true) throw new DoraError('IS_A_DIRECTORY', `${attempt}: a directory is in the way`);
      await mkdir(dirname(host), { recursive: true });
      await this.#paths.resolve(path, attempt); // the new parents may not lead elsewhere either
      const temp = join(dirname(host), TEMP_PREFIX + randomBytes(8).toString('hex'));
      const md5 = createHash('md5');
      let handle: FileHandle | undefined = await open(temp, 'wx', 0o644);
      try {
        for await (const chunk of checkedChunks(source instanceof Uint8Array ? [source] : source, { size: options.size, attempt })) {
          throwIfAborted(options.signal, attempt);
          md5.update(chunk);
          await handle.write(chunk);
        }
        throwIfAborted(options.signal, attempt);
        await handle.datasync();
        // A rename keeps mtime, size and inode, so the version is known before the file is in place.
        const status = localStatus(path, await handle.stat({ bigint: true }), attempt);
        await handle.close();
        handle = undefined;
        const record = { version: status.version, etag: md5.digest('hex'), ...attributeFields(options) };
        const sidecar = this.#sidecar(path);
        await sidecar.write(record);
        await rename(temp, host);
        // A concurrent writer of the same path may have replaced the sidecar between the two renames.
        if ((await sidecar.read(status.version)) === undefined && (await stat(host, { bigint: true }).then((s) => localStatus(path, s, attempt).version, () => undefined)) === status.version) {
          await sidecar.write(record);
        }
        return { ...status, etag: record.etag, attributes: recordAttributes({ name: '', ...record }) };
      } catch (error) {
        await handle?.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
        throw error;
      }
    });
  }

  async delete(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot delete "${this.uri}${path}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path, { allowRoot: false });
      const host = await this.#paths.resolve(path, attempt);
      const found = await lstat(host).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
        throw error;
      });
      if (found === undefined) return;
      await (found.isDirectory() ? removeDirectory(host) : unlink(host)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await this.#sidecar(path).remove();
    });
  }

  list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    const attempt = `Cannot list "${this.uri}${path}"`;
    return listLocal(this.#paths, path, { ...options, attempt, rootUri: this.uri, sorted: this.#sorted });
  }

  async mkdir(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot create directory "${this.uri}${path}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path);
      checkUserName(path, attempt);
      const host = await this.#paths.resolve(path, attempt);
      await mkdir(host, { recursive: true }).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST' && (await stat(host)).isFile()) {
          throw new DoraError('ALREADY_EXISTS', `${attempt}: a file is in the way`);
        }
        throw error;
      });
    });
  }

  async rename(from: string, to: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot rename "${this.uri}${from}" to "${this.uri}${to}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, from, { allowRoot: false });
      checkUfsPath(this.uri, to, { allowRoot: false });
      checkUserName(to, attempt);
      const source = await this.#paths.resolve(from, attempt);
      const target = await this.#paths.resolve(to, attempt);
      await lstat(source);
      await mkdir(dirname(target), { recursive: true });
      await rename(source, target);
      await this.#sidecar(from).moveTo(this.#sidecar(to));
    });
  }

  async close(): Promise<void> {}

  async #getTags(path: string, options: UfsCallOptions = {}): Promise<UfsTags> {
    const attempt = `Cannot read the tags of "${this.uri}${path}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path);
      const host = await this.#paths.resolve(path, attempt);
      const status = localStatus(path, await stat(host, { bigint: true }), attempt);
      return (await this.#sidecar(path).read(status.version))?.tags ?? {};
    });
  }

  async #putTags(path: string, tags: UfsTags, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot set the tags of "${this.uri}${path}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path);
      const host = await this.#paths.resolve(path, attempt);
      const status = localStatus(path, await stat(host, { bigint: true }), attempt);
      const sidecar = this.#sidecar(path);
      const { name: _name, tags: _old, ...kept } = (await sidecar.read(status.version)) ?? { name: '', version: status.version };
      await sidecar.write({ ...kept, ...(Object.keys(tags).length === 0 ? {} : { tags }) });
    });
  }

  #sidecar(path: string): LocalSidecar {
    return new LocalSidecar(this.#paths.hostPath(path), path === '');
  }

  /** Runs `body`, turning every failure into a DoraError in this backend's voice. */
  async #run<T>(attempt: string, options: UfsCallOptions, body: () => Promise<T>): Promise<T> {
    throwIfAborted(options.signal, attempt);
    try {
      return await body();
    } catch (error) {
      // An abort's own error says only "aborted"; the signal's reason says why (a deadline, a caller).
      if (options.signal?.aborted === true) throw abortedError(attempt, options.signal.reason);
      throw fromSystemError(error, attempt);
    }
  }
}

/** What a write keeps in the sidecar besides the ETag. */
function attributeFields(options: UfsWriteOptions): { contentType?: string; metadata?: Readonly<Record<string, string>>; tags?: UfsTags } {
  return {
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    ...(options.metadata === undefined || Object.keys(options.metadata).length === 0 ? {} : { metadata: options.metadata }),
    ...(options.tags === undefined || Object.keys(options.tags).length === 0 ? {} : { tags: options.tags }),
  };
}

/** Refuses names dora keeps for itself (temporary files and sidecars). */
function checkUserName(path: string, attempt: string): void {
  if (isInternalName(path.slice(path.lastIndexOf('/') + 1))) {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: names starting ".dora-tmp-" or ".dora-meta-" are reserved by dora`);
  }
}

/** Removes a directory that holds nothing but dora's own files (sidecars of files deleted behind its back). */
async function removeDirectory(host: string): Promise<void> {
  try {
    await rmdir(host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const names = await readdir(host);
    if (!names.every(isInternalName)) throw error;
    for (const name of names) await rm(join(host, name), { force: true });
    await rmdir(host);
  }
}
