import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
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
  UfsWriteOptions,
  UfsWriteSource,
  UnderFileSystem,
} from '../under-file-system.js';
import { checkUfsPath } from '../ufs-path.js';
import { TEMP_PREFIX, listLocal } from './local-list.js';
import { LocalPath } from './local-path.js';
import { localStatus } from './local-status.js';


const READ_CHUNK = 256 * 1024;

/**
 * `file://` under storage: a directory on a local disk or an NFS mount. Writes go to a hidden
 * temporary file in the same directory, are synced, and renamed into place, so a reader never
 * sees half a file. No path leaves the root, through '..' or a symbolic link.
 */
export class LocalUfs implements UnderFileSystem {
  readonly uri: string;
  readonly capabilities: UfsCapabilities = { rename: true, multipart: false };
  readonly #paths: LocalPath;

  /** `root` is an absolute host path. */
  constructor(root: string) {
    const trimmed = root.length > 1 ? root.replace(/\/+$/, '') : root;
    this.#paths = new LocalPath(trimmed);
    this.uri = `file://${trimmed === '/' ? '' : trimmed}/`;
  }

  async stat(path: string, options: UfsCallOptions = {}): Promise<UfsStatus> {
    const attempt = `Cannot stat "${this.uri}${path}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path);
      const host = await this.#paths.resolve(path, attempt);
      return localStatus(path, await stat(host, { bigint: true }), attempt);
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
      const host = await this.#paths.resolve(path, attempt);
      await mkdir(dirname(host), { recursive: true });
      await this.#paths.resolve(path, attempt); // the new parents may not lead elsewhere either
      const temp = join(dirname(host), TEMP_PREFIX + randomBytes(8).toString('hex'));
      let handle: FileHandle | undefined = await open(temp, 'wx', 0o644);
      try {
        for await (const chunk of checkedChunks(source instanceof Uint8Array ? [source] : source, { size: options.size, attempt })) {
          throwIfAborted(options.signal, attempt);
          await handle.write(chunk);
        }
        throwIfAborted(options.signal, attempt);
        await handle.datasync();
        await handle.close();
        handle = undefined;
        await rename(temp, host);
      } catch (error) {
        await handle?.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
        throw error;
      }
      return localStatus(path, await stat(host, { bigint: true }), attempt);
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
      await (found.isDirectory() ? rmdir(host) : unlink(host)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    });
  }

  list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    const attempt = `Cannot list "${this.uri}${path}"`;
    return listLocal(this.#paths, path, { ...options, attempt, rootUri: this.uri });
  }

  async mkdir(path: string, options: UfsCallOptions = {}): Promise<void> {
    const attempt = `Cannot create directory "${this.uri}${path}"`;
    return this.#run(attempt, options, async () => {
      checkUfsPath(this.uri, path);
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
      const source = await this.#paths.resolve(from, attempt);
      const target = await this.#paths.resolve(to, attempt);
      await lstat(source);
      await mkdir(dirname(target), { recursive: true });
      await rename(source, target);
    });
  }

  async close(): Promise<void> {}

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
